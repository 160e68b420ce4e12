// The new-connection wizard's steps and data: who the customer is (a new
// one or a registered one), what the connection needs, which of the ranked
// tariffs, where, and a last look before the one call that does it all.
// The server's refusal is taken apart by field and sent back to the step
// the field belongs to.

import { inject, provide, type InjectionKey } from 'vue'
import type { Customer, CustomerKind, Tariff } from '@/api/client'
import { asApiError } from '@/api/errors'
import { LIMITS } from '@/api/limits.gen'
import { fieldProblems, type FieldProblems } from '@/api/problems'
import { toCreateRequest, type CustomerDraft } from '@/components/customers/customerDraft'
import type { ConnectionRequest } from '@/api/contracts'
import { toMinor } from '@/utils/money'

export const STEPS = ['customer', 'requirements', 'tariff', 'address', 'confirm'] as const
export type Step = (typeof STEPS)[number]

export const ADDRESS_MAX = LIMITS.CreateConnectionRequest.address.maxLength
export const TECHNOLOGIES = ['FTTB', 'GPON', 'XDSL', 'DOCSIS', 'LTE'] as const

export interface Requirements {
  technology: string
  minSpeedMbps: number | null
  /** Major units (roubles), as people type it. */
  maxMonthlyFee: number | null
}

export interface WizardState {
  mode: 'new' | 'existing'
  /** The new customer, once its form was filled without problems. */
  draft: CustomerDraft | null
  existing: Customer | null
  requirements: Requirements
  /** The ranked tariffs for the requirements, best first. */
  suggestions: Tariff[]
  tariffId: string
  address: string
}

export function initialState(): WizardState {
  return {
    mode: 'new',
    draft: null,
    existing: null,
    requirements: { technology: '', minSpeedMbps: null, maxMonthlyFee: null },
    suggestions: [],
    tariffId: '',
    address: '',
  }
}

const WIZARD_STATE: InjectionKey<WizardState> = Symbol('wizard-state')

/** The wizard view owns its state and hands it to its steps, which edit it. */
export function provideWizardState(state: WizardState): void {
  provide(WIZARD_STATE, state)
}

export function useWizardState(): WizardState {
  const state = inject(WIZARD_STATE)
  if (!state) throw new Error('a wizard step is used outside the wizard')
  return state
}

export function customerKind(s: WizardState): CustomerKind {
  const kind = s.mode === 'new' ? s.draft?.kind : s.existing?.kind
  return kind === 'CUSTOMER_KIND_COMPANY' ? 'CUSTOMER_KIND_COMPANY' : 'CUSTOMER_KIND_PERSON'
}

export function customerName(s: WizardState): string {
  return (s.mode === 'new' ? s.draft?.name.trim() : s.existing?.name) ?? ''
}

/** The address the customer was registered with: a good first guess for the service address. */
export function customerAddress(s: WizardState): string {
  return ((s.mode === 'new' ? s.draft?.address : s.existing?.address) ?? '').trim()
}

/** What keeps the person on a step (empty: they may go on). */
export function stepProblems(step: Step, s: WizardState): FieldProblems {
  const out: FieldProblems = {}
  switch (step) {
    case 'customer':
      if (s.mode === 'existing' && !s.existing?.id) out.customer = { key: 'wizard.errors.pickCustomer' }
      if (s.mode === 'new' && !s.draft) out.customer = { key: 'wizard.errors.fillCustomer' }
      break
    case 'requirements': {
      const r = s.requirements
      if (r.minSpeedMbps !== null && r.minSpeedMbps < 0) out.minSpeedMbps = { key: 'wizard.errors.notNegative' }
      if (r.maxMonthlyFee !== null && r.maxMonthlyFee < 0) out.maxMonthlyFee = { key: 'wizard.errors.notNegative' }
      if (r.technology.trim() && !/^[A-Za-z0-9]{1,20}$/.test(r.technology.trim())) out.technology = { key: 'wizard.errors.technology' }
      break
    }
    case 'tariff':
      if (!s.tariffId || !s.suggestions.some((t) => t.id === s.tariffId)) out.tariffId = { key: 'wizard.errors.pickTariff' }
      break
    case 'address': {
      const a = s.address.trim()
      if (!a) out.address = { key: 'validation.required' }
      else if ([...a].length > ADDRESS_MAX) out.address = { key: 'validation.tooLong', params: { max: ADDRESS_MAX } }
      break
    }
    case 'confirm':
      for (const st of STEPS.slice(0, -1)) Object.assign(out, stepProblems(st, s))
  }
  return out
}

/** The first step that is not ready (the confirm step when all are). */
export function firstOpenStep(s: WizardState): Step {
  return STEPS.slice(0, -1).find((st) => Object.keys(stepProblems(st, s)).length > 0) ?? 'confirm'
}

/** Keeps the chosen tariff when it is still among the new ranking; else the best one. */
export function preselect(suggestions: Tariff[], current: string): string {
  if (current && suggestions.some((t) => t.id === current)) return current
  return suggestions[0]?.id ?? ''
}

export function requirementsQuery(s: WizardState) {
  const r = s.requirements
  return {
    customerKind: customerKind(s),
    technology: r.technology.trim().toUpperCase() || undefined,
    minSpeedMbps: r.minSpeedMbps && r.minSpeedMbps > 0 ? Math.floor(r.minSpeedMbps) : undefined,
    maxMonthlyFee: r.maxMonthlyFee !== null && r.maxMonthlyFee >= 0 ? toMinor(r.maxMonthlyFee) : undefined,
  }
}

export function buildRequest(s: WizardState): ConnectionRequest {
  const base = { tariffId: s.tariffId, address: s.address.trim() }
  if (s.mode === 'existing') return { ...base, customerId: s.existing?.id ?? '' }
  if (!s.draft) throw new Error('the customer is not filled in')
  return { ...base, customer: toCreateRequest(s.draft) }
}

export interface Refusal {
  /** The step to send the person back to. */
  step: Step
  /** Problems per step, keyed by that step's own field names. */
  problems: Partial<Record<Step, FieldProblems>>
  /** A sentence when no field explains it. */
  message: string
}

/** Where a field of the request is edited, and under which name. */
function placeOf(field: string): { step: Step; field: string } {
  if (field.startsWith('customer.')) return { step: 'customer', field: field.slice('customer.'.length) }
  if (field === 'customer' || field === 'customerId') return { step: 'customer', field: 'customer' }
  if (field.startsWith('requirements.')) return { step: 'requirements', field: field.slice('requirements.'.length) }
  if (field === 'requirements') return { step: 'requirements', field: 'requirements' }
  if (field === 'tariffId') return { step: 'tariff', field: 'tariffId' }
  if (field === 'address') return { step: 'address', field: 'address' }
  return { step: 'confirm', field }
}

export function splitRefusal(err: unknown): Refusal {
  const e = asApiError(err)
  const problems: Partial<Record<Step, FieldProblems>> = {}
  for (const [field, problem] of Object.entries(fieldProblems(e))) {
    const place = placeOf(field)
    ;(problems[place.step] ??= {})[place.field] = problem
  }
  if (e.reason === 'TARIFF_INACTIVE' && !problems.tariff) problems.tariff = { tariffId: { text: e.message } }
  const step = STEPS.find((st) => st !== 'confirm' && problems[st]) ?? 'confirm'
  return { step, problems, message: step === 'confirm' ? e.message : '' }
}
