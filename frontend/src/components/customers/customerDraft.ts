// The customer form's data and its checks before submit. The limits are
// the customer service's; the server checks again and its answer is mapped
// onto the same field paths ("phones[1].number").

import type { Customer, CustomerKind, Phone } from '@/api/client'
import { LIMITS as API } from '@/api/limits.gen'
import type { FieldProblems } from '@/api/problems'
import { normalizePhone } from '@/utils/phone'

export const LIMITS = {
  name: API.Customer.name.maxLength,
  email: API.Customer.email.maxLength,
  address: API.Customer.address.maxLength,
  label: API.Phone.label.maxLength,
  phones: API.Customer.phones.maxItems,
} as const

export interface PhoneRow {
  /** Stable key for rendering while rows are added and removed. */
  key: number
  number: string
  label: string
}

export interface CustomerDraft {
  kind: Exclude<CustomerKind, 'CUSTOMER_KIND_UNSPECIFIED'>
  name: string
  email: string
  address: string
  phones: PhoneRow[]
}

let nextKey = 1
export function phoneRow(number = '', label = ''): PhoneRow {
  return { key: nextKey++, number, label }
}

export function emptyDraft(prefill: Partial<Pick<CustomerDraft, 'name'>> & { phone?: string } = {}): CustomerDraft {
  return {
    kind: 'CUSTOMER_KIND_PERSON',
    name: prefill.name ?? '',
    email: '',
    address: '',
    phones: [phoneRow(prefill.phone ?? '', '')],
  }
}

export function draftOf(c: Customer): CustomerDraft {
  return {
    kind: c.kind === 'CUSTOMER_KIND_COMPANY' ? 'CUSTOMER_KIND_COMPANY' : 'CUSTOMER_KIND_PERSON',
    name: c.name ?? '',
    email: c.email ?? '',
    address: c.address ?? '',
    phones: (c.phones ?? []).map((p) => phoneRow(p.number, p.label ?? '')),
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** Checks the customer's own fields (not its phones). */
export function validateFields(d: Pick<CustomerDraft, 'name' | 'email' | 'address'>): FieldProblems {
  const out: FieldProblems = {}
  const name = d.name.trim()
  if (name === '') out.name = { key: 'validation.required' }
  else if ([...name].length > LIMITS.name) out.name = { key: 'validation.tooLong', params: { max: LIMITS.name } }
  const email = d.email.trim()
  if (email !== '' && (!EMAIL.test(email) || email.length > LIMITS.email)) out.email = { key: 'validation.email' }
  if ([...d.address.trim()].length > LIMITS.address) out.address = { key: 'validation.tooLong', params: { max: LIMITS.address } }
  return out
}

/** Checks one phone row; prefix is its field path ("phones[0]." or ""). */
export function validatePhone(row: Pick<PhoneRow, 'number' | 'label'>, prefix = ''): FieldProblems {
  const out: FieldProblems = {}
  if (row.number.trim() === '') out[`${prefix}number`] = { key: 'validation.phoneRequired' }
  else if (normalizePhone(row.number) === null) out[`${prefix}number`] = { key: 'validation.phone' }
  if ([...row.label.trim()].length > LIMITS.label) out[`${prefix}label`] = { key: 'validation.tooLong', params: { max: LIMITS.label } }
  return out
}

/** Checks a phone list: each row, no number twice, between one and ten rows. */
export function validatePhones(rows: PhoneRow[]): FieldProblems {
  const out: FieldProblems = {}
  if (rows.length === 0) out.phones = { key: 'validation.phonesRequired' }
  if (rows.length > LIMITS.phones) out.phones = { key: 'validation.phonesTooMany', params: { max: LIMITS.phones } }
  const seen = new Map<string, number>()
  rows.forEach((row, i) => {
    Object.assign(out, validatePhone(row, `phones[${i}].`))
    const n = normalizePhone(row.number)
    if (n === null) return
    const first = seen.get(n)
    if (first !== undefined) out[`phones[${i}].number`] = { key: 'validation.phoneTwice', params: { row: first + 1 } }
    else seen.set(n, i)
  })
  return out
}

export function validateDraft(d: CustomerDraft, withPhones: boolean): FieldProblems {
  return withPhones ? { ...validateFields(d), ...validatePhones(d.phones) } : validateFields(d)
}

/** The create request of a valid draft. */
export function toCreateRequest(d: CustomerDraft): Customer & { phones: Phone[] } {
  return {
    kind: d.kind,
    name: d.name.trim(),
    email: d.email.trim() || undefined,
    address: d.address.trim() || undefined,
    phones: d.phones.map((p) => ({ number: p.number.trim(), label: p.label.trim() || undefined })),
  }
}

/** The fields of the draft that differ from the customer (for the update mask). */
export function changedFields(d: CustomerDraft, c: Customer): ('kind' | 'name' | 'email' | 'address')[] {
  const out: ('kind' | 'name' | 'email' | 'address')[] = []
  const kind = c.kind === 'CUSTOMER_KIND_COMPANY' ? 'CUSTOMER_KIND_COMPANY' : 'CUSTOMER_KIND_PERSON'
  if (d.kind !== kind) out.push('kind')
  if (d.name.trim() !== (c.name ?? '')) out.push('name')
  if (d.email.trim() !== (c.email ?? '')) out.push('email')
  if (d.address.trim() !== (c.address ?? '')) out.push('address')
  return out
}
