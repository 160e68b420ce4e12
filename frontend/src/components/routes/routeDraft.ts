// The route editor's data: the route's processes in order and its close
// rules, as a person edits them, and the route the API takes back.
//
// A rule names the process it applies to. In the draft it points at a row
// (by the row's key), so reordering or renaming processes keeps it right;
// the request names a kept process by its id and a new one by its place as
// a negative number (-1 is the first), which is what the task service reads.

import type { ActionKind, CloseRule, ContractEffect, ContractOperation, FailureRule, FollowUp, Process, ProcessAction, Route } from '@/api/client'
import { LIMITS as API } from '@/api/limits.gen'
import type { FieldProblems } from '@/api/problems'
import { hoursToSeconds, secondsToHours } from '@/utils/format'

export const LIMITS = {
  name: API.Route.name.maxLength,
  description: API.Route.description.maxLength,
  resolution: API.CloseRule.resolution.maxLength,
  followUpTitle: API.FollowUp.title.maxLength,
  followUpDescription: API.FollowUp.description.maxLength,
  followUps: 5,
} as const

export type RuleKind = 'CLOSE_RULE_KIND_IDLE' | 'CLOSE_RULE_KIND_RESOLUTION'
export type Outcome = 'TASK_STATE_CLOSED' | 'TASK_STATE_CANCELLED'

/** Effects a service route may have; route No. 1 always activates. */
export const SERVICE_EFFECTS: ContractEffect[] = ['CONTRACT_EFFECT_NONE', 'CONTRACT_EFFECT_SUSPEND', 'CONTRACT_EFFECT_RESUME', 'CONTRACT_EFFECT_TERMINATE']

export interface ProcessRow {
  key: number
  /** The process's id; '' for a process added in this edit. */
  id: string
  name: string
  groupId: string | null
  /** null: no SLA. */
  slaHours: number | null
  /** Worked by its group, or runs its action and moves on. */
  automatic: boolean
  /** A manual process worked at the customer's address: a task waits in it to be booked a visit. */
  visit: boolean
  /** The task waits for the customer here: no SLA runs, the previous process keeps the rest of its own. */
  waitsForCustomer: boolean
  /** Escalation: a warning at this share of the SLA (null: none). */
  warnPercent: number | null
  /** Hours of working time after a breach before the task escalates (null: never). */
  escalateHours: number | null
  escalateRaise: boolean
  escalateToQueue: boolean
  action: ActionRow
}

/** An automatic process's action, as edited (see the API's Action). */
export interface ActionRow {
  kind: ActionKind
  operation: ContractOperation
  /** WAIT: hours, or until a date and time (ISO, local). */
  waitHours: number | null
  waitUntil: string
  groupId: string | null
  message: string
  url: string
  onFailure: FailureRule
  /** GO_TO_PROCESS: the row it goes to; null: none chosen. */
  failureKey: number | null
}

export const ACTION_KINDS: ActionKind[] = ['ACTION_KIND_CONTRACT', 'ACTION_KIND_WAIT', 'ACTION_KIND_NOTIFY_GROUP', 'ACTION_KIND_WEBHOOK']
export const CONTRACT_OPERATIONS: ContractOperation[] = [
  'CONTRACT_OPERATION_CHANGE_TARIFF',
  'CONTRACT_OPERATION_SUSPEND',
  'CONTRACT_OPERATION_RESUME',
  'CONTRACT_OPERATION_TERMINATE',
  'CONTRACT_OPERATION_ACTIVATE',
]

export function actionRow(a: Partial<ActionRow> = {}): ActionRow {
  return {
    kind: a.kind ?? 'ACTION_KIND_CONTRACT',
    operation: a.operation ?? 'CONTRACT_OPERATION_CHANGE_TARIFF',
    waitHours: a.waitHours ?? null,
    waitUntil: a.waitUntil ?? '',
    groupId: a.groupId ?? null,
    message: a.message ?? '',
    url: a.url ?? '',
    onFailure: a.onFailure ?? 'FAILURE_RULE_STUCK',
    failureKey: a.failureKey ?? null,
  }
}

/** Tells whether a route's tasks are opened with a tariff (a tariff change). */
export function needsTariff(processes: Process[] | undefined): boolean {
  return (processes ?? []).some(
    (p) =>
      p.kind === 'PROCESS_KIND_AUTOMATIC' && p.action?.kind === 'ACTION_KIND_CONTRACT' && p.action?.contractOperation === 'CONTRACT_OPERATION_CHANGE_TARIFF',
  )
}

/** ANY_PROCESS: the rule applies in every process; null: its process was removed. */
export const ANY_PROCESS = 0

export interface RuleRow {
  key: number
  kind: RuleKind
  processKey: number | null
  idleHours: number | null
  resolution: string
  outcome: Outcome
}

/** A service task the route opens by itself some time after a task closes. */
export interface FollowUpRow {
  key: number
  routeId: string | null
  /** How long after the close, in unit. */
  after: number | null
  unit: 'hours' | 'days'
  title: string
  description: string
}

export interface RouteDraft {
  name: string
  description: string
  contractEffect: ContractEffect
  processes: ProcessRow[]
  rules: RuleRow[]
  followUps: FollowUpRow[]
  /** A high or an urgent task's SLA, per cent of each process's (null: the same). */
  highSlaPercent: number | null
  urgentSlaPercent: number | null
}

let nextKey = 1
const key = () => nextKey++

export function processRow(p: Partial<Omit<ProcessRow, 'key'>> = {}): ProcessRow {
  return {
    key: key(),
    id: p.id ?? '',
    name: p.name ?? '',
    groupId: p.groupId ?? null,
    slaHours: p.slaHours ?? null,
    automatic: p.automatic ?? false,
    visit: p.visit ?? false,
    waitsForCustomer: p.waitsForCustomer ?? false,
    warnPercent: p.warnPercent ?? null,
    escalateHours: p.escalateHours ?? null,
    escalateRaise: p.escalateRaise ?? false,
    escalateToQueue: p.escalateToQueue ?? false,
    action: p.action ?? actionRow(),
  }
}

export function ruleRow(r: Partial<Omit<RuleRow, 'key'>> = {}): RuleRow {
  return {
    key: key(),
    kind: r.kind ?? 'CLOSE_RULE_KIND_RESOLUTION',
    processKey: r.processKey === undefined ? ANY_PROCESS : r.processKey,
    idleHours: r.idleHours ?? null,
    resolution: r.resolution ?? '',
    outcome: r.outcome ?? 'TASK_STATE_CANCELLED',
  }
}

export function followUpRow(f: Partial<Omit<FollowUpRow, 'key'>> = {}): FollowUpRow {
  return { key: key(), routeId: f.routeId ?? null, after: f.after ?? 7, unit: f.unit ?? 'days', title: f.title ?? '', description: f.description ?? '' }
}

const DAY = 24 * 3600

/** A follow-up as the editor shows it: whole days in days, else hours. */
function followUpOf(f: FollowUp): FollowUpRow {
  const seconds = Number(f.afterSeconds ?? 0)
  const days = seconds > 0 && seconds % DAY === 0
  return followUpRow({
    routeId: f.routeId && f.routeId !== '0' ? f.routeId : null,
    after: days ? seconds / DAY : seconds / 3600,
    unit: days ? 'days' : 'hours',
    title: f.title ?? '',
    description: f.description ?? '',
  })
}

export function followUpSeconds(f: FollowUpRow): number {
  return Math.round((f.after ?? 0) * (f.unit === 'days' ? DAY : 3600))
}

/** The editable rules of a route: ROUTE_COMPLETED is implicit and not edited. */
function editableRules(rules: CloseRule[] | undefined): CloseRule[] {
  return (rules ?? []).filter((r) => r.kind === 'CLOSE_RULE_KIND_IDLE' || r.kind === 'CLOSE_RULE_KIND_RESOLUTION')
}

export function draftOf(route?: Route): RouteDraft {
  if (!route) {
    return {
      name: '',
      description: '',
      contractEffect: 'CONTRACT_EFFECT_NONE',
      processes: [processRow()],
      rules: [],
      followUps: [],
      highSlaPercent: null,
      urgentSlaPercent: null,
    }
  }
  const processes = (route.processes ?? []).map((p) =>
    processRow({
      id: p.id ?? '',
      name: p.name ?? '',
      groupId: p.groupId && p.groupId !== '0' ? p.groupId : null,
      slaHours: secondsToHours(p.slaSeconds),
      automatic: p.kind === 'PROCESS_KIND_AUTOMATIC',
      visit: p.kind !== 'PROCESS_KIND_AUTOMATIC' && !!p.visit,
      waitsForCustomer: !!p.waitsForCustomer,
      warnPercent: p.warnPercent || null,
      escalateHours: secondsToHours(p.escalateAfterSeconds),
      escalateRaise: !!p.escalateRaisePriority,
      escalateToQueue: !!p.escalateToQueue,
    }),
  )
  const keyOfId = new Map(processes.map((p) => [p.id, p.key]))
  ;(route.processes ?? []).forEach((p, i) => {
    const a = p.action
    if (p.kind !== 'PROCESS_KIND_AUTOMATIC' || !a) return
    processes[i]!.action = actionRow({
      kind: a.kind && a.kind !== 'ACTION_KIND_UNSPECIFIED' ? a.kind : undefined,
      operation: a.contractOperation && a.contractOperation !== 'CONTRACT_OPERATION_UNSPECIFIED' ? a.contractOperation : undefined,
      waitHours: secondsToHours(a.waitSeconds),
      waitUntil: a.waitUntil ? a.waitUntil.slice(0, 16) : '',
      groupId: a.groupId && a.groupId !== '0' ? a.groupId : null,
      message: a.message ?? '',
      url: a.webhookUrl ?? '',
      onFailure: a.onFailure === 'FAILURE_RULE_GO_TO_PROCESS' ? 'FAILURE_RULE_GO_TO_PROCESS' : 'FAILURE_RULE_STUCK',
      failureKey: a.failureProcessId && a.failureProcessId !== '0' ? (keyOfId.get(a.failureProcessId) ?? null) : null,
    })
  })
  const rules = editableRules(route.closeRules).map((r) => {
    const pid = r.processId ?? '0'
    return ruleRow({
      kind: r.kind as RuleKind,
      processKey: pid === '0' ? ANY_PROCESS : (keyOfId.get(pid) ?? null),
      idleHours: secondsToHours(r.idleSeconds),
      resolution: r.resolution ?? '',
      outcome: r.outcome === 'TASK_STATE_CLOSED' ? 'TASK_STATE_CLOSED' : 'TASK_STATE_CANCELLED',
    })
  })
  const effect = route.contractEffect && route.contractEffect !== 'CONTRACT_EFFECT_UNSPECIFIED' ? route.contractEffect : 'CONTRACT_EFFECT_NONE'
  const followUps = (route.followUps ?? []).map(followUpOf)
  const share = (pc: number | undefined) => (pc && pc > 0 ? pc : null)
  return {
    name: route.name ?? '',
    description: route.description ?? '',
    contractEffect: effect,
    processes,
    rules,
    followUps,
    highSlaPercent: share(route.highSlaPercent),
    urgentSlaPercent: share(route.urgentSlaPercent),
  }
}

export function addProcess(d: RouteDraft): ProcessRow {
  const row = processRow()
  d.processes.push(row)
  return row
}

/** Moves a process up (-1) or down (+1); the rules follow their process. */
export function moveProcess(d: RouteDraft, index: number, by: -1 | 1): boolean {
  const to = index + by
  if (index < 0 || index >= d.processes.length || to < 0 || to >= d.processes.length) return false
  const [row] = d.processes.splice(index, 1)
  d.processes.splice(to, 0, row!)
  return true
}

/** Removes a process; rules that applied to it lose their process (to be chosen again). */
export function removeProcess(d: RouteDraft, index: number): void {
  const [row] = d.processes.splice(index, 1)
  if (!row) return
  for (const r of d.rules) if (r.processKey === row.key) r.processKey = null
  for (const p of d.processes) if (p.action.failureKey === row.key) p.action.failureKey = null
}

export function addRule(d: RouteDraft, kind: RuleKind = 'CLOSE_RULE_KIND_RESOLUTION'): RuleRow {
  const row = ruleRow({ kind, outcome: kind === 'CLOSE_RULE_KIND_IDLE' ? 'TASK_STATE_CLOSED' : 'TASK_STATE_CANCELLED' })
  d.rules.push(row)
  return row
}

export function removeRule(d: RouteDraft, index: number): void {
  d.rules.splice(index, 1)
}

export function addFollowUp(d: RouteDraft): FollowUpRow | null {
  if (d.followUps.length >= LIMITS.followUps) return null
  const row = followUpRow()
  d.followUps.push(row)
  return row
}

export function removeFollowUp(d: RouteDraft, index: number): void {
  d.followUps.splice(index, 1)
}

/** Problems keyed by the request's field paths ("processes[1].groupId"). */
export function validateRoute(d: RouteDraft): FieldProblems {
  const out: FieldProblems = {}
  const name = d.name.trim()
  if (!name) out.name = { key: 'validation.required' }
  else if ([...name].length > LIMITS.name) out.name = { key: 'validation.tooLong', params: { max: LIMITS.name } }
  if ([...d.description.trim()].length > LIMITS.description) out.description = { key: 'validation.tooLong', params: { max: LIMITS.description } }
  if (d.processes.length === 0) out.processes = { key: 'routes.errors.noProcesses' }
  d.processes.forEach((p, i) => {
    const n = p.name.trim()
    if (!n) out[`processes[${i}].name`] = { key: 'validation.required' }
    else if ([...n].length > LIMITS.name) out[`processes[${i}].name`] = { key: 'validation.tooLong', params: { max: LIMITS.name } }
    if (!p.groupId) out[`processes[${i}].groupId`] = { key: 'routes.errors.group' }
    if (p.slaHours !== null && p.slaHours < 0) out[`processes[${i}].slaSeconds`] = { key: 'routes.errors.hours' }
    const sla = !!p.slaHours && !p.waitsForCustomer
    if (p.warnPercent && !sla) out[`processes[${i}].warnPercent`] = { key: 'routes.errors.needsSla' }
    if (p.escalateHours && !sla) out[`processes[${i}].escalateAfterSeconds`] = { key: 'routes.errors.needsSla' }
    else if (p.escalateHours && !p.escalateRaise && !p.escalateToQueue) out[`processes[${i}].escalateAfterSeconds`] = { key: 'routes.errors.escalateHow' }
  })
  const keys = new Set(d.processes.map((p) => p.key))
  d.processes.forEach((p, i) => {
    if (!p.automatic) return
    const a = p.action
    const f = `processes[${i}].action`
    if (a.kind === 'ACTION_KIND_WAIT' && !((a.waitHours !== null && a.waitHours > 0) !== !!a.waitUntil)) out[`${f}.waitSeconds`] = { key: 'routes.errors.wait' }
    if (a.kind === 'ACTION_KIND_NOTIFY_GROUP') {
      if (!a.groupId) out[`${f}.groupId`] = { key: 'routes.errors.group' }
      if (!a.message.trim()) out[`${f}.message`] = { key: 'validation.required' }
    }
    if (a.kind === 'ACTION_KIND_WEBHOOK' && !/^https?:\/\/[^\s/]+/i.test(a.url.trim())) out[`${f}.webhookUrl`] = { key: 'routes.errors.url' }
    if (a.onFailure === 'FAILURE_RULE_GO_TO_PROCESS' && (a.failureKey === null || a.failureKey === p.key || !keys.has(a.failureKey)))
      out[`${f}.failureProcessId`] = { key: 'routes.errors.failureProcess' }
  })
  d.rules.forEach((r, i) => {
    if (r.processKey === null || (r.processKey !== ANY_PROCESS && !keys.has(r.processKey)))
      out[`closeRules[${i}].processId`] = { key: 'routes.errors.ruleProcess' }
    if (r.kind === 'CLOSE_RULE_KIND_IDLE' && !(r.idleHours !== null && r.idleHours > 0)) out[`closeRules[${i}].idleSeconds`] = { key: 'routes.errors.idle' }
    if (r.kind === 'CLOSE_RULE_KIND_RESOLUTION') {
      const code = r.resolution.trim()
      if (!code) out[`closeRules[${i}].resolution`] = { key: 'routes.errors.resolution' }
      else if (code.length > LIMITS.resolution) out[`closeRules[${i}].resolution`] = { key: 'validation.tooLong', params: { max: LIMITS.resolution } }
    }
  })
  for (const f of ['highSlaPercent', 'urgentSlaPercent'] as const) {
    const pc = d[f]
    if (pc !== null && (pc < 1 || pc > 100 || !Number.isInteger(pc))) out[f] = { key: 'routes.errors.slaShare' }
  }
  d.followUps.forEach((f, i) => {
    if (!f.routeId) out[`followUps[${i}].routeId`] = { key: 'routes.errors.followUpRoute' }
    const seconds = followUpSeconds(f)
    if (seconds < 60 || seconds > 366 * DAY) out[`followUps[${i}].afterSeconds`] = { key: 'routes.errors.followUpAfter' }
    const title = f.title.trim()
    if (!title) out[`followUps[${i}].title`] = { key: 'validation.required' }
    else if ([...title].length > LIMITS.followUpTitle) out[`followUps[${i}].title`] = { key: 'validation.tooLong', params: { max: LIMITS.followUpTitle } }
    if ([...f.description.trim()].length > LIMITS.followUpDescription)
      out[`followUps[${i}].description`] = { key: 'validation.tooLong', params: { max: LIMITS.followUpDescription } }
  })
  return out
}

/** The route the API takes: processes in order, rules naming their process. */
export function toRequest(d: RouteDraft, connection = false): Route {
  const ref = new Map<number, string>()
  d.processes.forEach((p, i) => ref.set(p.key, p.id && p.id !== '0' ? p.id : String(-(i + 1))))
  return {
    name: d.name.trim(),
    description: d.description.trim(),
    contractEffect: connection ? 'CONTRACT_EFFECT_ACTIVATE' : d.contractEffect,
    processes: d.processes.map((p) => ({
      id: p.id || '0',
      name: p.name.trim(),
      groupId: p.groupId ?? '0',
      slaSeconds: hoursToSeconds(p.slaHours),
      kind: p.automatic ? 'PROCESS_KIND_AUTOMATIC' : 'PROCESS_KIND_MANUAL',
      // Only a process its group works can require a visit.
      visit: !p.automatic && p.visit,
      waitsForCustomer: !p.automatic && !p.visit && p.waitsForCustomer,
      warnPercent: p.warnPercent ?? 0,
      escalateAfterSeconds: hoursToSeconds(p.escalateHours),
      escalateRaisePriority: p.escalateHours ? p.escalateRaise : false,
      escalateToQueue: p.escalateHours ? p.escalateToQueue : false,
      action: p.automatic ? actionRequest(p.action, ref) : undefined,
    })),
    closeRules: d.rules.map((r) => ({
      kind: r.kind,
      processId: r.processKey === null || r.processKey === ANY_PROCESS ? '0' : (ref.get(r.processKey) ?? '0'),
      idleSeconds: r.kind === 'CLOSE_RULE_KIND_IDLE' ? hoursToSeconds(r.idleHours) : undefined,
      resolution: r.kind === 'CLOSE_RULE_KIND_RESOLUTION' ? r.resolution.trim() : undefined,
      outcome: r.outcome,
    })),
    followUps: d.followUps.map((f) => ({
      routeId: f.routeId ?? '0',
      afterSeconds: String(followUpSeconds(f)),
      title: f.title.trim(),
      description: f.description.trim(),
    })),
    highSlaPercent: d.highSlaPercent ?? 0,
    urgentSlaPercent: d.urgentSlaPercent ?? 0,
  }
}

/** The action as the API takes it: only the fields its kind uses. */
function actionRequest(a: ActionRow, ref: Map<number, string>): ProcessAction {
  const out: ProcessAction = { kind: a.kind, onFailure: a.onFailure }
  if (a.kind === 'ACTION_KIND_CONTRACT') out.contractOperation = a.operation
  if (a.kind === 'ACTION_KIND_WAIT') {
    if (a.waitUntil) out.waitUntil = new Date(a.waitUntil).toISOString()
    else out.waitSeconds = hoursToSeconds(a.waitHours)
  }
  if (a.kind === 'ACTION_KIND_NOTIFY_GROUP') Object.assign(out, { groupId: a.groupId ?? '0', message: a.message.trim() })
  if (a.kind === 'ACTION_KIND_WEBHOOK') out.webhookUrl = a.url.trim()
  if (a.onFailure === 'FAILURE_RULE_GO_TO_PROCESS' && a.failureKey !== null) out.failureProcessId = ref.get(a.failureKey) ?? '0'
  return out
}
