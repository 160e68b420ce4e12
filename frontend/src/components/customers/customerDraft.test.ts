import { describe, expect, it } from 'vitest'
import { changedFields, emptyDraft, phoneRow, toCreateRequest, validateDraft, validatePhones } from './customerDraft'

describe('validateDraft', () => {
  it('accepts a person with a name and one valid phone', () => {
    const d = emptyDraft({ name: 'Ivan Petrov', phone: '8 912 345-67-89' })
    expect(validateDraft(d, true)).toEqual({})
  })

  it('requires a name and a phone number', () => {
    const d = emptyDraft()
    const problems = validateDraft(d, true)
    expect(problems.name).toEqual({ key: 'validation.required' })
    expect(problems['phones[0].number']).toEqual({ key: 'validation.phoneRequired' })
  })

  it('refuses a malformed e-mail but allows none', () => {
    const d = emptyDraft({ name: 'A', phone: '+79123456789' })
    d.email = 'not-an-address'
    expect(validateDraft(d, true).email).toEqual({ key: 'validation.email' })
    d.email = '  '
    expect(validateDraft(d, true)).toEqual({})
  })

  it('checks lengths the way the server does', () => {
    const d = emptyDraft({ name: 'x'.repeat(201), phone: '+79123456789' })
    d.address = 'y'.repeat(501)
    expect(validateDraft(d, true)).toMatchObject({
      name: { key: 'validation.tooLong', params: { max: 200 } },
      address: { key: 'validation.tooLong', params: { max: 500 } },
    })
  })

  it('ignores phones when editing the customer alone', () => {
    const d = emptyDraft({ name: 'Ivan' })
    expect(validateDraft(d, false)).toEqual({})
  })
})

describe('validatePhones', () => {
  it('names the row where a number is given twice, in any format', () => {
    const rows = [phoneRow('+79123456789'), phoneRow('+79001112233'), phoneRow('8 (912) 345-67-89')]
    expect(validatePhones(rows)).toEqual({ 'phones[2].number': { key: 'validation.phoneTwice', params: { row: 1 } } })
  })

  it('flags a number that cannot be a phone', () => {
    expect(validatePhones([phoneRow('12-34')])).toEqual({ 'phones[0].number': { key: 'validation.phone' } })
  })

  it('flags a label longer than fifty characters', () => {
    expect(validatePhones([phoneRow('+79123456789', 'l'.repeat(51))])).toEqual({
      'phones[0].label': { key: 'validation.tooLong', params: { max: 50 } },
    })
  })

  it('wants between one and ten phones', () => {
    expect(validatePhones([]).phones).toEqual({ key: 'validation.phonesRequired' })
    const many = Array.from({ length: 11 }, (_, i) => phoneRow(`+7912000${1000 + i}`))
    expect(validatePhones(many).phones).toEqual({ key: 'validation.phonesTooMany', params: { max: 10 } })
  })
})

describe('toCreateRequest', () => {
  it('trims and leaves empty optional fields out', () => {
    const d = emptyDraft({ name: '  Ivan  ', phone: ' 8 912 345-67-89 ' })
    d.phones.push(phoneRow('+79001112233', ' home '))
    expect(toCreateRequest(d)).toEqual({
      kind: 'CUSTOMER_KIND_PERSON',
      name: 'Ivan',
      email: undefined,
      address: undefined,
      phones: [
        { number: '8 912 345-67-89', label: undefined },
        { number: '+79001112233', label: 'home' },
      ],
    })
  })
})

describe('changedFields', () => {
  it('lists only what differs from the stored customer', () => {
    const d = emptyDraft({ name: 'Ivan' })
    d.email = 'ivan@example.com'
    expect(changedFields(d, { name: 'Ivan', kind: 'CUSTOMER_KIND_PERSON', email: '' })).toEqual(['email'])
    d.kind = 'CUSTOMER_KIND_COMPANY'
    expect(changedFields(d, { name: 'Ivan' })).toEqual(['kind', 'email'])
  })
})
