import { describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { mountWith } from '@/test/mount'
import FormField from './FormField.vue'

function field(props: Record<string, unknown>) {
  return mountWith(FormField, {
    props: { id: 'group-name', label: 'Name', ...props } as never,
    slots: {
      default: (s: { id: string; invalid: boolean; describedBy?: string; maxlength?: number }) =>
        h('input', { id: s.id, 'aria-invalid': s.invalid, 'aria-describedby': s.describedBy, maxlength: s.maxlength, 'data-testid': 'control' }),
    },
  }).wrapper
}

describe('FormField', () => {
  it('labels the control and marks a required field', () => {
    const w = field({ required: true })
    expect(w.get('label').attributes('for')).toBe('group-name')
    expect(w.get('label').text()).toBe('Name *')
    expect(w.get('[data-testid=control]').attributes('aria-invalid')).toBe('false')
    expect(w.get('[data-testid=control]').attributes('aria-describedby')).toBeUndefined()
    w.unmount()
  })

  it('counts against the limit and ties the hint and the count to the control', () => {
    const w = field({ hint: 'Seen by everyone', max: 5, value: 'Привет!' })
    expect(w.get('[data-testid=char-count]').text()).toContain('7')
    expect(w.get('[data-testid=char-count]').classes()).toContain('char-count--over')
    const control = w.get('[data-testid=control]')
    expect(control.attributes('maxlength')).toBe('5')
    expect(control.attributes('aria-describedby')).toBe('group-name-hint group-name-count')
    expect(w.get('#group-name-hint').text()).toBe('Seen by everyone')
    w.unmount()
  })

  it('says the problem under the field and marks the control invalid', () => {
    const w = field({ problem: { key: 'validation.required' } })
    const control = w.get('[data-testid=control]')
    expect(control.attributes('aria-invalid')).toBe('true')
    expect(control.attributes('aria-describedby')).toBe('group-name-error')
    expect(w.get('#group-name-error').text()).toBe('Fill this in.')
    w.unmount()
  })

  it('names a group of buttons by its label text, as a group has no one element for <label for>', () => {
    const w = mountWith(FormField, {
      props: { id: 'customer-kind', label: 'Kind', group: true } as never,
      slots: { default: (s: { labelId: string }) => h('div', { role: 'radiogroup', 'aria-labelledby': s.labelId, 'data-testid': 'control' }) },
    }).wrapper
    expect(w.find('label').exists()).toBe(false)
    expect(w.get('[data-testid=control]').attributes('aria-labelledby')).toBe('customer-kind-label')
    expect(w.get('#customer-kind-label').text()).toBe('Kind')
    w.unmount()
  })

  it('keeps a hidden label for the control, and an inline one beside it', () => {
    const hidden = field({ hideLabel: true })
    expect(hidden.get('label').classes()).toContain('sr-only')
    expect(hidden.get('label').attributes('for')).toBe('group-name')
    hidden.unmount()
    const inline = field({ inline: true })
    expect(inline.get('[data-testid=form-field]').classes()).toContain('field--inline')
    expect(inline.get('label').attributes('for')).toBe('group-name')
    inline.unmount()
  })

  it('bundles the wiring for an input, leaving a maxlength written on it alone when nothing is counted', () => {
    const attrs = (props: Record<string, unknown>) => {
      const w = mountWith(FormField, {
        props: { id: 'task-comment', label: 'Comment', ...props } as never,
        slots: { default: (s: { input: object }) => h('textarea', { maxlength: 9, ...s.input, 'data-testid': 'control' }) },
      }).wrapper
      const got = w.get('[data-testid=control]').attributes()
      w.unmount()
      return got
    }
    expect(attrs({ problem: { key: 'validation.required' }, max: 4000, value: '' })).toMatchObject({
      id: 'task-comment',
      'aria-invalid': 'true',
      'aria-describedby': 'task-comment-error task-comment-count',
      maxlength: '4000',
    })
    expect(attrs({})).toMatchObject({ id: 'task-comment', 'aria-invalid': 'false', maxlength: '9' })
  })

  it('names a hint given through its slot, once the slot is there', async () => {
    const shown = ref(false)
    const Host = defineComponent({
      setup: () => () =>
        h(
          FormField,
          { id: 'task-search', label: 'Search' },
          {
            default: (s: { describedBy?: string }) => h('input', { id: 'task-search', 'aria-describedby': s.describedBy, 'data-testid': 'control' }),
            ...(shown.value ? { hint: () => 'Type three characters' } : {}),
          },
        ),
    })
    const w = mountWith(Host).wrapper
    expect(w.get('[data-testid=control]').attributes('aria-describedby')).toBeUndefined()
    shown.value = true
    await nextTick()
    expect(w.get('[data-testid=control]').attributes('aria-describedby')).toBe('task-search-hint')
    expect(w.get('#task-search-hint').text()).toBe('Type three characters')
    w.unmount()
  })
})
