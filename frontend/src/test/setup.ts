// Runs before every test file: a clean browser storage and the bits of the
// browser jsdom leaves out that PrimeVue asks for.
import { afterEach, beforeEach, vi } from 'vitest'
import { loadLocale } from '@/i18n'
import { unmountLeftovers } from '@/test/leftovers'

// Tests read English; the console fetches it when chosen.
await loadLocale('en')

beforeEach(() => {
  localStorage.clear()
})

afterEach(() => {
  unmountLeftovers()
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList
}

if (!('ResizeObserver' in window)) {
  class ResizeObserverStub {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  }
  Object.assign(window, { ResizeObserver: ResizeObserverStub })
  Object.assign(globalThis, { ResizeObserver: ResizeObserverStub })
}
