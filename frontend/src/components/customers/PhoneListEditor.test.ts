import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { mountWith } from '@/test/mount'
import { phoneRow, type PhoneRow } from './customerDraft'
import PhoneListEditor from './PhoneListEditor.vue'

function host(initial: PhoneRow[], errors = {}) {
  const rows = ref(initial)
  const Host = defineComponent({
    setup: () => () => h(PhoneListEditor, { modelValue: rows.value, 'onUpdate:modelValue': (v: PhoneRow[]) => (rows.value = v), errors }),
  })
  const { wrapper } = mountWith(Host)
  return { wrapper, rows }
}

describe('PhoneListEditor', () => {
  it('adds a row and puts the cursor in it', async () => {
    const { wrapper, rows } = host([phoneRow('+79123456789')])
    await wrapper.get('[data-testid=phone-add]').trigger('click')
    expect(rows.value).toHaveLength(2)
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=phone-number]')).toHaveLength(2))
    const inputs = wrapper.findAll('[data-testid=phone-number]')
    await vi.waitFor(() => expect(document.activeElement).toBe(inputs[1]?.element))
    wrapper.unmount()
  })

  it('removes the chosen row and never the last one', async () => {
    const { wrapper, rows } = host([phoneRow('+79123456789'), phoneRow('+79001112233')])
    await wrapper.findAll('[data-testid=phone-remove]')[0]!.trigger('click')
    expect(rows.value.map((r) => r.number)).toEqual(['+79001112233'])
    const remove = wrapper.get('[data-testid=phone-remove]')
    expect(remove.attributes('disabled')).toBeDefined()
    await remove.trigger('click')
    expect(rows.value).toHaveLength(1)
    wrapper.unmount()
  })

  it('stops at ten phones', async () => {
    const { wrapper, rows } = host(Array.from({ length: 9 }, (_, i) => phoneRow(`+7912000${1000 + i}`)))
    await wrapper.get('[data-testid=phone-add]').trigger('click')
    expect(rows.value).toHaveLength(10)
    expect(wrapper.get('[data-testid=phone-add]').attributes('disabled')).toBeDefined()
    wrapper.unmount()
  })

  it('edits a row’s number and label in place', async () => {
    const { wrapper, rows } = host([phoneRow('', '')])
    await wrapper.get('[data-testid=phone-number]').setValue('8 912 345-67-89')
    await wrapper.get('[data-testid=phone-label]').setValue('mobile')
    expect(rows.value[0]).toMatchObject({ number: '8 912 345-67-89', label: 'mobile' })
    wrapper.unmount()
  })

  it('shows each row’s problem under that row, marked invalid', () => {
    const { wrapper } = host([phoneRow('+79123456789'), phoneRow('bad')], { 'phones[1].number': { key: 'validation.phone' } })
    const rows = wrapper.findAll('[data-testid=phone-row]')
    expect(rows[0]!.find('[data-testid=field-error]').exists()).toBe(false)
    expect(rows[1]!.get('[data-testid=field-error]').text()).toContain('This is not a phone number')
    expect(rows[1]!.get('[data-testid=phone-number]').attributes('aria-invalid')).toBe('true')
    wrapper.unmount()
  })
})
