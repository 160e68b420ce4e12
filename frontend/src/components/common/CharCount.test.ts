import { describe, expect, it } from 'vitest'
import { mountWith } from '@/test/mount'
import CharCount from './CharCount.vue'

describe('CharCount', () => {
  it('counts characters as the server does, not UTF-16 units', () => {
    const { wrapper } = mountWith(CharCount, { props: { value: 'ж😀\n', max: 500 } })
    expect(wrapper.text()).toBe('3 / 500')
    expect(wrapper.classes()).not.toContain('char-count--over')
  })

  it('marks a text over the limit', () => {
    const { wrapper } = mountWith(CharCount, { props: { value: 'abcd', max: 3 } })
    expect(wrapper.text()).toBe('4 / 3')
    expect(wrapper.classes()).toContain('char-count--over')
  })
})
