import { describe, expect, it } from 'vitest'
import type { Route } from '@/api/client'
import {
  addFollowUp,
  addProcess,
  addRule,
  ANY_PROCESS,
  draftOf,
  followUpSeconds,
  moveProcess,
  removeFollowUp,
  removeProcess,
  toRequest,
  validateRoute,
} from './routeDraft'

const REPAIR: Route = {
  id: '2',
  name: 'Repair',
  version: 4,
  contractEffect: 'CONTRACT_EFFECT_NONE',
  processes: [
    { id: '6', name: 'Diagnostics', groupId: '5', slaSeconds: '14400', position: 1 },
    { id: '7', name: 'Field repair', groupId: '3', slaSeconds: '86400', position: 2 },
    { id: '8', name: 'Confirmation', groupId: '5', position: 3 },
  ],
  closeRules: [
    { kind: 'CLOSE_RULE_KIND_ROUTE_COMPLETED', outcome: 'TASK_STATE_CLOSED' },
    { kind: 'CLOSE_RULE_KIND_IDLE', processId: '8', idleSeconds: '259200', outcome: 'TASK_STATE_CLOSED' },
    { kind: 'CLOSE_RULE_KIND_RESOLUTION', processId: '0', resolution: 'duplicate', outcome: 'TASK_STATE_CANCELLED' },
  ],
}

describe('the route editor’s draft', () => {
  it('reads a route back unchanged: SLA in hours, rules pointing at their processes, the implicit rule left out', () => {
    const d = draftOf(REPAIR)
    expect(d.processes.map((p) => [p.name, p.groupId, p.slaHours])).toEqual([
      ['Diagnostics', '5', 4],
      ['Field repair', '3', 24],
      ['Confirmation', '5', null],
    ])
    expect(d.rules).toHaveLength(2)
    expect(d.rules[0]?.processKey).toBe(d.processes[2]?.key)
    expect(d.rules[1]?.processKey).toBe(ANY_PROCESS)
    const req = toRequest(d)
    expect(req.processes?.map((p) => [p.id, p.slaSeconds])).toEqual([
      ['6', '14400'],
      ['7', '86400'],
      ['8', '0'],
    ])
    expect(req.closeRules).toEqual([
      { kind: 'CLOSE_RULE_KIND_IDLE', processId: '8', idleSeconds: '259200', resolution: undefined, outcome: 'TASK_STATE_CLOSED' },
      { kind: 'CLOSE_RULE_KIND_RESOLUTION', processId: '0', idleSeconds: undefined, resolution: 'duplicate', outcome: 'TASK_STATE_CANCELLED' },
    ])
  })

  it('names a new process by its place once the order is final', () => {
    const d = draftOf(REPAIR)
    const added = addProcess(d)
    added.name = 'Callback'
    added.groupId = '5'
    added.slaHours = 1.5
    const rule = addRule(d)
    rule.resolution = 'no_answer'
    rule.processKey = added.key
    // The new process moves to second place.
    moveProcess(d, 3, -1)
    moveProcess(d, 2, -1)
    const req = toRequest(d)
    expect(req.processes?.map((p) => p.id)).toEqual(['6', '0', '7', '8'])
    expect(req.processes?.[1]?.slaSeconds).toBe('5400')
    expect(req.closeRules?.at(-1)).toMatchObject({ processId: '-2', resolution: 'no_answer' })
  })

  it('keeps a rule with its process when processes are reordered', () => {
    const d = draftOf(REPAIR)
    moveProcess(d, 2, -1)
    expect(toRequest(d).closeRules?.[0]?.processId).toBe('8')
    expect(moveProcess(d, 0, -1)).toBe(false)
    expect(moveProcess(d, 2, 1)).toBe(false)
  })

  it('asks for the process again when a rule’s process was removed', () => {
    const d = draftOf(REPAIR)
    removeProcess(d, 2)
    expect(d.rules[0]?.processKey).toBeNull()
    expect(validateRoute(d)['closeRules[0].processId']).toEqual({ key: 'routes.errors.ruleProcess' })
  })

  it('checks names, groups, durations and codes before saving', () => {
    const d = draftOf()
    d.name = ' '
    addRule(d, 'CLOSE_RULE_KIND_IDLE')
    addRule(d, 'CLOSE_RULE_KIND_RESOLUTION')
    const problems = validateRoute(d)
    expect(Object.keys(problems).sort()).toEqual(['closeRules[0].idleSeconds', 'closeRules[1].resolution', 'name', 'processes[0].groupId', 'processes[0].name'])
    d.processes = []
    expect(validateRoute(d).processes).toEqual({ key: 'routes.errors.noProcesses' })
  })

  it('reads and sends whether a manual process requires a visit, and never for an automatic one', () => {
    const route: Route = {
      ...REPAIR,
      processes: [
        { id: '6', name: 'Diagnostics', groupId: '5', position: 1, kind: 'PROCESS_KIND_MANUAL' },
        { id: '7', name: 'Field repair', groupId: '3', position: 2, kind: 'PROCESS_KIND_MANUAL', visit: true },
        {
          id: '8',
          name: 'Wait',
          groupId: '5',
          position: 3,
          kind: 'PROCESS_KIND_AUTOMATIC',
          visit: true,
          action: { kind: 'ACTION_KIND_WAIT', waitSeconds: '3600' },
        },
      ],
    }
    const d = draftOf(route)
    expect(d.processes.map((p) => p.visit)).toEqual([false, true, false])
    d.processes[0]!.visit = true
    // A process made automatic drops the visit it required.
    d.processes[1]!.automatic = true
    expect(toRequest(d).processes?.map((p) => p.visit)).toEqual([true, false, false])
  })

  it('reads and sends a process’s escalation and its wait for the customer, and checks they can fire', () => {
    const route: Route = {
      ...REPAIR,
      processes: [
        { ...REPAIR.processes![0]!, warnPercent: 80, escalateAfterSeconds: '3600', escalateRaisePriority: true },
        { id: '9', name: 'Waiting for the customer', groupId: '5', position: 2, waitsForCustomer: true },
        REPAIR.processes![2]!,
      ],
    }
    const d = draftOf(route)
    expect(d.processes.map((p) => [p.warnPercent, p.escalateHours, p.escalateRaise, p.escalateToQueue, p.waitsForCustomer])).toEqual([
      [80, 1, true, false, false],
      [null, null, false, false, true],
      [null, null, false, false, false],
    ])
    expect(toRequest(d).processes?.map((p) => [p.warnPercent, p.escalateAfterSeconds, p.escalateRaisePriority, p.waitsForCustomer])).toEqual([
      [80, '3600', true, false],
      [0, '0', false, true],
      [0, '0', false, false],
    ])
    expect(validateRoute(d)).toEqual({})
    d.processes[0]!.escalateRaise = false
    d.processes[2]!.warnPercent = 50
    expect(validateRoute(d)).toEqual({
      'processes[0].escalateAfterSeconds': { key: 'routes.errors.escalateHow' },
      'processes[2].warnPercent': { key: 'routes.errors.needsSla' },
    })
  })

  it('always sends ACTIVATE for route No. 1', () => {
    expect(toRequest(draftOf({ ...REPAIR, connection: true }), true).contractEffect).toBe('CONTRACT_EFFECT_ACTIVATE')
  })
})

describe('a route’s follow-ups in the draft', () => {
  const FIRST: Route = {
    id: '1',
    name: 'New connection',
    connection: true,
    processes: [{ id: '1', name: 'Sales check', groupId: '1', position: 1 }],
    followUps: [
      { routeId: '7', afterSeconds: '604800', title: 'Welcome call', description: 'Ask how it works' },
      { routeId: '2', afterSeconds: '5400', title: 'Check the line' },
    ],
  }

  it('reads them back in days or hours and sends them unchanged, so saving keeps them', () => {
    const d = draftOf(FIRST)
    expect(d.followUps.map((f) => [f.routeId, f.after, f.unit, f.title])).toEqual([
      ['7', 7, 'days', 'Welcome call'],
      ['2', 1.5, 'hours', 'Check the line'],
    ])
    expect(toRequest(d, true).followUps).toEqual([
      { routeId: '7', afterSeconds: '604800', title: 'Welcome call', description: 'Ask how it works' },
      { routeId: '2', afterSeconds: '5400', title: 'Check the line', description: '' },
    ])
  })

  it('checks each before saving, and takes at most five', () => {
    const d = draftOf(REPAIR)
    const f = addFollowUp(d)!
    f.after = 0.5
    f.unit = 'hours'
    f.title = '  '
    expect(validateRoute(d)).toMatchObject({
      'followUps[0].routeId': { key: 'routes.errors.followUpRoute' },
      'followUps[0].title': { key: 'validation.required' },
    })
    f.after = 400
    f.unit = 'days'
    expect(validateRoute(d)['followUps[0].afterSeconds']).toEqual({ key: 'routes.errors.followUpAfter' })
    f.routeId = '7'
    f.after = 2
    f.title = 'Call back'
    expect(validateRoute(d)).toEqual({})
    expect(followUpSeconds(f)).toBe(172800)
    for (let i = 0; i < 4; i++) expect(addFollowUp(d)).not.toBeNull()
    expect(addFollowUp(d)).toBeNull()
    removeFollowUp(d, 0)
    expect(d.followUps).toHaveLength(4)
  })
})

describe('a route’s SLA shares for high and urgent tasks', () => {
  it('reads them back, sends them, and sends none as the same SLA', () => {
    const d = draftOf({ ...REPAIR, highSlaPercent: 75, urgentSlaPercent: 50 })
    expect([d.highSlaPercent, d.urgentSlaPercent]).toEqual([75, 50])
    expect(toRequest(d)).toMatchObject({ highSlaPercent: 75, urgentSlaPercent: 50 })
    d.highSlaPercent = null
    expect(toRequest(d).highSlaPercent).toBe(0)
    expect(draftOf(REPAIR).urgentSlaPercent).toBeNull()
  })

  it('refuses a share outside 1–100 per cent', () => {
    const d = draftOf(REPAIR)
    d.urgentSlaPercent = 120
    d.highSlaPercent = 0
    expect(Object.keys(validateRoute(d))).toEqual(expect.arrayContaining(['urgentSlaPercent', 'highSlaPercent']))
  })
})
