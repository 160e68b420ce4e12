/// <reference types="vite/client" />

// PrimeVue ships the buses its Toast and ConfirmDialog listen on without types.
declare module 'primevue/toasteventbus' {
  import type { EventBusOptions } from '@primeuix/utils/eventbus'
  const bus: EventBusOptions
  export default bus
}
declare module 'primevue/confirmationeventbus' {
  import type { EventBusOptions } from '@primeuix/utils/eventbus'
  const bus: EventBusOptions
  export default bus
}
