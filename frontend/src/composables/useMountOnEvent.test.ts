import { EventBus } from '@primeuix/utils/eventbus'
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { useMountOnEvent } from './useMountOnEvent'

const Listener = defineComponent({ render: () => null })

describe('useMountOnEvent', () => {
  it('loads nothing until the first event', () => {
    const load = vi.fn(async () => ({ default: Listener }))
    const { component } = useMountOnEvent(EventBus(), 'add', load)
    expect(load).not.toHaveBeenCalled()
    expect(component.value).toBeNull()
  })

  it('loads once for the events before the component listens, and hands them over when it has mounted', async () => {
    const bus = EventBus()
    const load = vi.fn(async () => ({ default: Listener }))
    const { component, mounted } = useMountOnEvent(bus, 'add', load)
    bus.emit('add', 'first')
    bus.emit('add', 'second')
    await vi.waitFor(() => expect(component.value).toBe(Listener))
    expect(load).toHaveBeenCalledTimes(1)

    const heard: unknown[] = []
    bus.on('add', (evt) => heard.push(evt))
    mounted()
    expect(heard).toEqual(['first', 'second'])

    // From now on the component hears the bus itself; nothing is held or sent twice.
    bus.emit('add', 'third')
    expect(heard).toEqual(['first', 'second', 'third'])
  })

  it('tries again at the next event when the component could not be fetched', async () => {
    const bus = EventBus()
    const load = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValueOnce({ default: Listener })
    const { component } = useMountOnEvent(bus, 'confirm', load)
    bus.emit('confirm', 'first')
    await flushPromises()
    bus.emit('confirm', 'second')
    await vi.waitFor(() => expect(component.value).toBe(Listener))
    expect(load).toHaveBeenCalledTimes(2)
  })
})
