import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import { mountWith } from '@/test/mount'
import CustomerForm from './CustomerForm.vue'
import { emptyDraft, type CustomerDraft } from './customerDraft'

function mountForm(save: (d: CustomerDraft) => Promise<void>, initial = emptyDraft()) {
  return mountWith(CustomerForm, { props: { initial, withPhones: true, submitLabel: 'Register', save } }).wrapper
}

describe('CustomerForm', () => {
  it('does not submit an invalid form and focuses the first problem', async () => {
    const save = vi.fn(async (_d: CustomerDraft) => {})
    const wrapper = mountForm(save)
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('customer-name'))
    expect(save).not.toHaveBeenCalled()
    const errors = wrapper.findAll('[data-testid=field-error]').map((e) => e.text())
    expect(errors).toEqual(['Fill this in.', 'Enter the number, or remove this row.'])
    expect(document.activeElement?.id).toBe('customer-name')
    wrapper.unmount()
  })

  it('submits a valid form with Enter from a field', async () => {
    const save = vi.fn(async (_d: CustomerDraft) => {})
    const wrapper = mountForm(save)
    await wrapper.get('[data-testid=customer-name]').setValue('Ivan Petrov')
    await wrapper.get('[data-testid=phone-number]').setValue('8 912 345-67-89')
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(save).toHaveBeenCalledOnce())
    expect(save.mock.calls[0]![0]).toMatchObject({ name: 'Ivan Petrov', phones: [{ number: '8 912 345-67-89' }] })
    wrapper.unmount()
  })

  it('shows a taken number at its row with a link to the customer who has it', async () => {
    const save = vi.fn(async () => {
      throw new ApiError({
        status: 409,
        code: 6,
        message: 'the number +79001112233 is taken by customer 12',
        fieldErrors: { 'phones[1].number': 'the number +79001112233 is taken by customer 12' },
        reason: 'PHONE_TAKEN',
        metadata: { customerId: '12', number: '+79001112233' },
      })
    })
    const d = emptyDraft({ name: 'Ivan', phone: '+79123456789' })
    d.phones.push({ key: 999, number: '+79001112233', label: '' })
    const wrapper = mountForm(save, d)
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(document.activeElement).toBe(wrapper.findAll('[data-testid=phone-row]')[1]!.get('[data-testid=phone-number]').element))
    const rows = wrapper.findAll('[data-testid=phone-row]')
    expect(rows[0]!.find('[data-testid=field-error]').exists()).toBe(false)
    const error = rows[1]!.get('[data-testid=field-error]')
    expect(error.text()).toContain('The number +7 900 111-22-33 is taken by customer #12.')
    expect(error.get('[data-testid=holder-link]').attributes('href')).toBe('/customers/12')
    expect(document.activeElement).toBe(rows[1]!.get('[data-testid=phone-number]').element)
    wrapper.unmount()
  })

  it('clears a row’s problem once its number is edited', async () => {
    const save = vi.fn(async () => {
      throw new ApiError({ status: 400, code: 3, message: 'bad', fieldErrors: { 'phones[0].number': '"1" is not a phone number' } })
    })
    const wrapper = mountForm(save, emptyDraft({ name: 'Ivan', phone: '+79123456789' }))
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=field-error]').exists()).toBe(true))
    await wrapper.get('[data-testid=phone-number]').setValue('+79123456780')
    expect(wrapper.find('[data-testid=field-error]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows a failure that names no field above the form', async () => {
    const save = vi.fn(async () => {
      throw new ApiError({ status: 0, code: 14, message: 'Failed to fetch' })
    })
    const wrapper = mountForm(save, emptyDraft({ name: 'Ivan', phone: '+79123456789' }))
    await wrapper.get('form').trigger('submit')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=form-error]').text()).toContain('The server cannot be reached'))
    wrapper.unmount()
  })
})
