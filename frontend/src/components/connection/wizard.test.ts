import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/errors'
import { emptyDraft, phoneRow } from '@/components/customers/customerDraft'
import { buildRequest, customerKind, firstOpenStep, initialState, preselect, requirementsQuery, splitRefusal, stepProblems } from './wizard'

const tariff = (id: string) => ({ id, name: `T${id}`, technology: 'FTTB', speedMbps: 100, monthlyFee: { amountMinor: '50000', currency: 'RUB' } })

function filled() {
  const s = initialState()
  s.draft = { ...emptyDraft(), name: 'Olga', kind: 'CUSTOMER_KIND_COMPANY', phones: [phoneRow('8 912 345-67-89', 'office')] }
  s.suggestions = [tariff('3'), tariff('1')]
  s.tariffId = '1'
  s.address = ' Moscow, Arbat 10 '
  return s
}

describe('the wizard’s steps', () => {
  it('keeps the person on a step until it is filled in', () => {
    const s = initialState()
    expect(Object.keys(stepProblems('customer', s))).toEqual(['customer'])
    s.mode = 'existing'
    expect(stepProblems('customer', s).customer).toEqual({ key: 'wizard.errors.pickCustomer' })
    s.existing = { id: '5', name: 'Ivan' }
    expect(stepProblems('customer', s)).toEqual({})
    expect(stepProblems('address', s).address).toEqual({ key: 'validation.required' })
    expect(stepProblems('tariff', s).tariffId).toBeDefined()
    expect(firstOpenStep(s)).toBe('tariff')
  })

  it('refuses negative requirements and odd technology names before asking', () => {
    const s = initialState()
    s.requirements = { technology: 'fttb!', minSpeedMbps: -1, maxMonthlyFee: -5 }
    expect(Object.keys(stepProblems('requirements', s)).sort()).toEqual(['maxMonthlyFee', 'minSpeedMbps', 'technology'])
  })

  it('asks for tariffs of the customer’s kind, the fee in kopecks', () => {
    const s = filled()
    s.requirements = { technology: ' gpon ', minSpeedMbps: 100, maxMonthlyFee: 1200.5 }
    expect(requirementsQuery(s)).toEqual({ customerKind: 'CUSTOMER_KIND_COMPANY', technology: 'GPON', minSpeedMbps: 100, maxMonthlyFee: '120050' })
    s.requirements = { technology: '', minSpeedMbps: null, maxMonthlyFee: null }
    expect(requirementsQuery(s)).toEqual({ customerKind: 'CUSTOMER_KIND_COMPANY', technology: undefined, minSpeedMbps: undefined, maxMonthlyFee: undefined })
  })

  it('chooses the best tariff first, but keeps a choice that still fits', () => {
    const ranked = [tariff('3'), tariff('1'), tariff('2')]
    expect(preselect(ranked, '')).toBe('3')
    expect(preselect(ranked, '2')).toBe('2')
    expect(preselect(ranked, '9')).toBe('3')
    expect(preselect([], '2')).toBe('')
  })

  it('sends a new customer with phones, or a registered one’s id', () => {
    const s = filled()
    expect(buildRequest(s)).toEqual({
      tariffId: '1',
      address: 'Moscow, Arbat 10',
      customer: { kind: 'CUSTOMER_KIND_COMPANY', name: 'Olga', email: undefined, address: undefined, phones: [{ number: '8 912 345-67-89', label: 'office' }] },
    })
    s.mode = 'existing'
    s.existing = { id: '5', name: 'Ivan', kind: 'CUSTOMER_KIND_PERSON' }
    expect(buildRequest(s)).toEqual({ tariffId: '1', address: 'Moscow, Arbat 10', customerId: '5' })
    expect(customerKind(s)).toBe('CUSTOMER_KIND_PERSON')
  })

  it('sends a taken phone back to the customer step, at the phone', () => {
    const err = new ApiError({
      status: 409,
      code: 6,
      message: 'the number +79123456789 is taken by customer 8',
      fieldErrors: { 'customer.phones[0].number': 'the number +79123456789 is taken by customer 8' },
      reason: 'PHONE_TAKEN',
      metadata: { customerId: '8', number: '+79123456789' },
    })
    const r = splitRefusal(err)
    expect(r.step).toBe('customer')
    expect(r.problems.customer?.['phones[0].number']).toMatchObject({ key: 'customers.errors.phoneTakenBy', customerId: '8' })
  })

  it('sends each refused field to its own step, the earliest first', () => {
    const err = new ApiError({
      status: 400,
      code: 3,
      message: 'bad',
      fieldErrors: { address: 'the address is too long', tariffId: 'tariff 3 is no longer offered' },
    })
    const r = splitRefusal(err)
    expect(r.step).toBe('tariff')
    expect(r.problems.tariff?.tariffId).toEqual({ text: 'tariff 3 is no longer offered' })
    expect(r.problems.address?.address).toEqual({ text: 'the address is too long' })
    expect(
      splitRefusal(new ApiError({ status: 400, code: 3, message: 'x', fieldErrors: { 'requirements.technology': 'bad name' } })).problems.requirements,
    ).toEqual({
      technology: { text: 'bad name' },
    })
  })

  it('keeps a refusal no field explains on the confirm step', () => {
    const r = splitRefusal(new ApiError({ status: 503, code: 14, message: 'the task service does not answer' }))
    expect(r).toEqual({ step: 'confirm', problems: {}, message: 'the task service does not answer' })
  })
})
