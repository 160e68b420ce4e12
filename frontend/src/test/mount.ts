// Mounts a component with the console's plugins: a fresh Pinia, English
// messages, PrimeVue (unstyled), toasts, confirmations and a memory router
// with the real routes.
import { mount, type ComponentMountingOptions, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import PrimeVue from 'primevue/config'
import ConfirmationService from 'primevue/confirmationservice'
import ToastService from 'primevue/toastservice'
import type { Component } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { i18n } from '@/i18n'
import { routes } from '@/router/routes'
import { track } from '@/test/leftovers'

export function makeTestPinia(): Pinia {
  const pinia = createPinia()
  setActivePinia(pinia)
  return pinia
}

export function makeTestRouter(): Router {
  return createRouter({ history: createMemoryHistory(), routes })
}

// The console loads its views lazily. A test router's first navigation (to
// /) would import them while a short test is already ending, so the views
// it lands on are loaded once, before any test runs.
await Promise.all(
  makeTestRouter()
    .resolve('/')
    .matched.map((r) => r.components?.default)
    .map((c) => (typeof c === 'function' ? (c as () => Promise<unknown>)() : undefined)),
)

export function mountWith<C extends Component>(component: C, options: ComponentMountingOptions<C> & { pinia?: Pinia; router?: Router } = {}) {
  i18n.global.locale.value = 'en'
  const pinia = options.pinia ?? makeTestPinia()
  const router = options.router ?? makeTestRouter()
  const { pinia: _p, router: _r, global, ...rest } = options
  const wrapper = mount(component, {
    attachTo: document.body,
    ...rest,
    global: {
      ...global,
      plugins: [pinia, router, i18n, [PrimeVue, { unstyled: true }], ToastService, ConfirmationService, ...(global?.plugins ?? [])],
    },
  } as ComponentMountingOptions<C>)
  track(wrapper as unknown as VueWrapper)
  return { wrapper, pinia, router }
}
