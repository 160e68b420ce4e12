import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { ApiError, RpcCode } from '@/api/errors'
import { useAsyncContent } from '@/composables/useAsyncContent'
import { mountWith } from '@/test/mount'
import AsyncContent from './AsyncContent.vue'

/** A screen that reads through `read` and shows the answer in a paragraph. */
function screen(read: () => Promise<string>) {
  return defineComponent({
    setup() {
      const state = useAsyncContent(read, { immediate: true })
      return () =>
        h(
          AsyncContent<string>,
          { state, notFoundTitle: 'No such customer', notFoundText: 'Customer 9 does not exist.' },
          { default: ({ data }: { data: string }) => h('p', { 'data-testid': 'content' }, data) },
        )
    },
  })
}

describe('AsyncContent', () => {
  it('shows placeholders while loading, then the content', async () => {
    let resolve!: (v: string) => void
    const { wrapper } = mountWith(screen(() => new Promise((r) => (resolve = r))))
    expect(wrapper.find('[data-testid="async-loading"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="content"]').exists()).toBe(false)
    resolve('Ivan Petrov')
    await flushPromises()
    expect(wrapper.find('[data-testid="async-loading"]').exists()).toBe(false)
    expect(wrapper.get('[data-testid="content"]').text()).toBe('Ivan Petrov')
    wrapper.unmount()
  })

  it("shows the screen's own words when the thing does not exist", async () => {
    const { wrapper } = mountWith(screen(() => Promise.reject(new ApiError({ status: 404, code: RpcCode.NotFound, message: 'gone' }))))
    await flushPromises()
    const empty = wrapper.get('[data-testid="empty-state"]')
    expect(empty.text()).toContain('No such customer')
    expect(empty.text()).toContain('Customer 9 does not exist.')
    expect(wrapper.find('[data-testid="load-error"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows the error with a retry that reads again', async () => {
    let calls = 0
    const { wrapper } = mountWith(
      screen(() => {
        calls++
        return calls === 1 ? Promise.reject(new ApiError({ status: 503, code: RpcCode.Unavailable, message: 'down' })) : Promise.resolve('back')
      }),
    )
    await flushPromises()
    expect(wrapper.find('[data-testid="load-error"]').exists()).toBe(true)
    await wrapper.get('[data-testid="load-error"] button').trigger('click')
    await flushPromises()
    expect(calls).toBe(2)
    expect(wrapper.get('[data-testid="content"]').text()).toBe('back')
    wrapper.unmount()
  })
})
