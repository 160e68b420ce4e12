// The route editor's data: the route's processes in order and its close
// rules, as a person edits them, and the route the API takes back.
//
// A rule names the process it applies to. In the draft it points at a row
// (by the row's key), so reordering or renaming processes keeps it right;
// the request names a kept process by its id and a new one by its place as
// a negative number (-1 is the first), which is what the task service reads.

import type { CloseRule, ContractEffect, Route } from '@/api/client'
import { LIMITS as API } from '@/api/limits.gen'
import type { FieldProblems } from '@/api/problems'
import { hoursToSeconds, secondsToHours } from '@/utils/format'

export const LIMITS = { name: API.Route.name.maxLength, description: API.Route.description.maxLength, resolution: API.CloseRule.resolution.maxLength } as const

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

export interface RouteDraft {
  name: string
  description: string
  contractEffect: ContractEffect
  processes: ProcessRow[]
  rules: RuleRow[]
}

let nextKey = 1
const key = () => nextKey++

export function processRow(p: Partial<Omit<ProcessRow, 'key'>> = {}): ProcessRow {
  return { key: key(), id: p.id ?? '', name: p.name ?? '', groupId: p.groupId ?? null, slaHours: p.slaHours ?? null }
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

/** The editable rules of a route: ROUTE_COMPLETED is implicit and not edited. */
function editableRules(rules: CloseRule[] | undefined): CloseRule[] {
  return (rules ?? []).filter((r) => r.kind === 'CLOSE_RULE_KIND_IDLE' || r.kind === 'CLOSE_RULE_KIND_RESOLUTION')
}

export function draftOf(route?: Route): RouteDraft {
  if (!route) {
    return { name: '', description: '', contractEffect: 'CONTRACT_EFFECT_NONE', processes: [processRow()], rules: [] }
  }
  const processes = (route.processes ?? []).map((p) =>
    processRow({ id: p.id ?? '', name: p.name ?? '', groupId: p.groupId && p.groupId !== '0' ? p.groupId : null, slaHours: secondsToHours(p.slaSeconds) }),
  )
  const keyOfId = new Map(processes.map((p) => [p.id, p.key]))
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
  return { name: route.name ?? '', description: route.description ?? '', contractEffect: effect, processes, rules }
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
}

export function addRule(d: RouteDraft, kind: RuleKind = 'CLOSE_RULE_KIND_RESOLUTION'): RuleRow {
  const row = ruleRow({ kind, outcome: kind === 'CLOSE_RULE_KIND_IDLE' ? 'TASK_STATE_CLOSED' : 'TASK_STATE_CANCELLED' })
  d.rules.push(row)
  return row
}

export function removeRule(d: RouteDraft, index: number): void {
  d.rules.splice(index, 1)
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
  })
  const keys = new Set(d.processes.map((p) => p.key))
  d.rules.forEach((r, i) => {
    if (r.processKey === null || (r.processKey !== ANY_PROCESS && !keys.has(r.processKey))) out[`closeRules[${i}].processId`] = { key: 'routes.errors.ruleProcess' }
    if (r.kind === 'CLOSE_RULE_KIND_IDLE' && !(r.idleHours !== null && r.idleHours > 0)) out[`closeRules[${i}].idleSeconds`] = { key: 'routes.errors.idle' }
    if (r.kind === 'CLOSE_RULE_KIND_RESOLUTION') {
      const code = r.resolution.trim()
      if (!code) out[`closeRules[${i}].resolution`] = { key: 'routes.errors.resolution' }
      else if (code.length > LIMITS.resolution) out[`closeRules[${i}].resolution`] = { key: 'validation.tooLong', params: { max: LIMITS.resolution } }
    }
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
    })),
    closeRules: d.rules.map((r) => ({
      kind: r.kind,
      processId: r.processKey === null || r.processKey === ANY_PROCESS ? '0' : (ref.get(r.processKey) ?? '0'),
      idleSeconds: r.kind === 'CLOSE_RULE_KIND_IDLE' ? hoursToSeconds(r.idleHours) : undefined,
      resolution: r.kind === 'CLOSE_RULE_KIND_RESOLUTION' ? r.resolution.trim() : undefined,
      outcome: r.outcome,
    })),
  }
}
