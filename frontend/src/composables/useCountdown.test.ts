import { describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { useCountdown } from './useCountdown'

describe('useCountdown', () => {
  it('counts down once a second and stops at zero', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-01-01T10:00:00Z'))
    const until = ref<string | null>('2026-01-01T10:00:03Z')
    const scope = effectScope()
    const c = scope.run(() => useCountdown(until))!
    expect(c.secondsLeft.value).toBe(3)
    expect(c.running.value).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(c.secondsLeft.value).toBe(2)
    vi.advanceTimersByTime(2000)
    expect(c.secondsLeft.value).toBe(0)
    expect(c.expired.value).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    scope.stop()
  })

  it('starts over when the deadline changes and is idle without one', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-01-01T10:00:00Z'))
    const until = ref<string | null>(null)
    const scope = effectScope()
    const c = scope.run(() => useCountdown(until))!
    expect(c.running.value).toBe(false)
    expect(c.expired.value).toBe(false)
    until.value = '2026-01-01T10:10:00Z'
    await nextTick()
    expect(c.secondsLeft.value).toBe(600)
    scope.stop()
    expect(vi.getTimerCount()).toBe(0)
  })
})
