import { markRaw, shallowRef, type Component } from 'vue'

type Handler = (evt: unknown) => void

/** What this needs of PrimeVue's event buses (primevue/toasteventbus, primevue/confirmationeventbus). */
export interface EventBus {
  on(type: string, handler: Handler): void
  off(type: string, handler: Handler): void
  emit(type: string, evt?: unknown): void
}

/**
 * A component that answers an event on a bus — PrimeVue's Toast (`add`) and
 * ConfirmDialog (`confirm`) — fetched at the first such event rather than
 * with the first screen, which shows neither. Events that come before it
 * listens wait here and are sent again from `mounted`, which the caller
 * runs once the component has mounted (`@vue:mounted`).
 */
export function useMountOnEvent(bus: EventBus, event: string, load: () => Promise<{ default: Component }>) {
  const component = shallowRef<Component | null>(null)
  const waiting: unknown[] = []
  let loading: Promise<void> | undefined

  function hold(evt: unknown): void {
    waiting.push(evt)
    loading ??= load().then(
      (m) => {
        component.value = markRaw(m.default)
      },
      () => {
        // Offline or a stale build: the next event tries again.
        loading = undefined
      },
    )
  }
  bus.on(event, hold)

  function mounted(): void {
    bus.off(event, hold)
    for (const evt of waiting.splice(0)) bus.emit(event, evt)
  }

  return { component, mounted }
}
