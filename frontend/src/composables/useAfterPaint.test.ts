import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { useStepsAfterPaint } from './useAfterPaint'

const Page = defineComponent({
  setup() {
    const step = useStepsAfterPaint(1)
    return () => h('div', [h('h1', 'top'), step.value > 0 ? h('p', 'below') : null])
  },
})

/** A browser whose first contentful paint has not been reported yet; `report` reports it. */
function beforeFirstPaint() {
  let notify: ((list: { getEntriesByName: (n: string) => unknown[] }) => void) | undefined
  class FakeObserver {
    static supportedEntryTypes = ['paint']
    constructor(cb: typeof notify) {
      notify = cb
    }
    observe() {}
    disconnect() {
      notify = undefined
    }
  }
  vi.stubGlobal('PerformanceObserver', FakeObserver)
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(0)))
  vi.spyOn(performance, 'getEntriesByName').mockReturnValue([])
  return {
    report: () => notify?.({ getEntriesByName: (n) => (n === 'first-contentful-paint' ? [{ name: n }] : []) }),
    observing: () => notify !== undefined,
  }
}

describe('useStepsAfterPaint', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
    vi.useRealTimers()
  })

  it('renders the deferred part in a later task than the first', async () => {
    const wrapper = mount(Page)
    expect(wrapper.find('h1').exists()).toBe(true)
    expect(wrapper.find('p').exists()).toBe(false)
    await vi.waitFor(() => expect(wrapper.find('p').exists()).toBe(true))
  })

  it('on the first screen, waits until the first paint is reported', async () => {
    vi.useFakeTimers()
    const paint = beforeFirstPaint()
    const wrapper = mount(Page)
    await vi.advanceTimersByTimeAsync(500)
    expect(wrapper.find('p').exists()).toBe(false)
    paint.report()
    await vi.advanceTimersByTimeAsync(1)
    expect(wrapper.find('p').exists()).toBe(true)
    expect(paint.observing()).toBe(false)
  })

  it('does not wait for ever when no paint is reported (a tab opened in the background)', async () => {
    vi.useFakeTimers()
    const paint = beforeFirstPaint()
    const wrapper = mount(Page)
    await vi.advanceTimersByTimeAsync(999)
    expect(wrapper.find('p').exists()).toBe(false)
    await vi.advanceTimersByTimeAsync(2)
    expect(wrapper.find('p').exists()).toBe(true)
    expect(paint.observing()).toBe(false)
  })

  it('counts its steps one task at a time after the paint, and stops at the last', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(0), 16))
    const seen: number[] = []
    const Steps = {
      setup() {
        const step = useStepsAfterPaint(3)
        return () => {
          seen.push(step.value)
          return h('p', String(step.value))
        }
      },
    }
    const wrapper = mount(Steps)
    await vi.advanceTimersByTimeAsync(16) // the frame
    expect(wrapper.text()).toBe('0')
    for (const want of ['1', '2', '3']) {
      await vi.advanceTimersToNextTimerAsync()
      expect(wrapper.text()).toBe(want)
    }
    expect(vi.getTimerCount()).toBe(0)
    expect(seen).toEqual([0, 1, 2, 3])
  })

  it('stops counting once its screen is left', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(0), 16))
    let last = -1
    const Steps = {
      setup() {
        const step = useStepsAfterPaint(5)
        return () => h('p', String((last = step.value)))
      },
    }
    const wrapper = mount(Steps)
    await vi.advanceTimersByTimeAsync(16)
    await vi.advanceTimersToNextTimerAsync()
    expect(last).toBe(1)
    wrapper.unmount()
    const scheduled = vi.spyOn(globalThis, 'setTimeout')
    await vi.runAllTimersAsync()
    // the step already due finds the screen gone and schedules no more
    expect(scheduled).not.toHaveBeenCalled()
    expect(last).toBe(1)
  })
})
