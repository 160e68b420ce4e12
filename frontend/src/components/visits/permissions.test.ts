import { describe, expect, it } from 'vitest'
import type { Task, Visit } from '@/api/client'
import type { Actor } from '@/components/tasks/permissions'
import { booksFor, NO_VISIT_ACTIONS, visitActions } from './permissions'

const actor = (userId: string, groupIds: string[], perms: string[]): Actor => ({ userId, groupIds, can: (...p) => p.every((x) => perms.includes(x)) })
const ENGINEER = ['tasks.read', 'tasks.work']
const SUPERVISOR = [...ENGINEER, 'tasks.manage']

const TASK: Task = { id: '9', state: 'TASK_STATE_OPEN', awaitingVisit: true, currentProcess: { id: '13', groupId: '3', position: 3, visit: true } }
const visit = (state: Visit['state'], techs = ['21']): Visit => ({ id: '1', taskId: '9', state, technicians: techs.map((userId) => ({ userId })) })

describe('who does what with a visit', () => {
  it('lets the process’s group book a task that waits, and nobody else but supervisors', () => {
    expect(visitActions(TASK, null, actor('5', ['3'], ENGINEER))).toMatchObject({ book: true, rebook: false, cancel: false, override: false })
    expect(visitActions(TASK, null, actor('5', ['1'], ENGINEER)).book).toBe(false)
    expect(visitActions(TASK, null, actor('5', [], SUPERVISOR))).toMatchObject({ book: true, override: true })
    expect(visitActions(TASK, null, actor('5', ['3'], ['tasks.read']))).toEqual(NO_VISIT_ACTIONS)
  })

  it('offers nothing for a process that needs no visit, or a closed task', () => {
    expect(visitActions({ ...TASK, currentProcess: { ...TASK.currentProcess, visit: false } }, null, actor('5', ['3'], SUPERVISOR))).toEqual(NO_VISIT_ACTIONS)
    expect(visitActions({ ...TASK, state: 'TASK_STATE_CLOSED' }, visit('VISIT_STATE_BOOKED'), actor('21', ['3'], SUPERVISOR))).toEqual(NO_VISIT_ACTIONS)
  })

  it('moves and cancels a booked visit until the technician is on site', () => {
    const group = actor('5', ['3'], ENGINEER)
    expect(visitActions(TASK, visit('VISIT_STATE_BOOKED'), group)).toMatchObject({ book: false, rebook: true, cancel: true })
    expect(visitActions(TASK, visit('VISIT_STATE_ON_THE_WAY'), group)).toMatchObject({ rebook: true, cancel: true })
    expect(visitActions(TASK, visit('VISIT_STATE_ARRIVED'), group)).toMatchObject({ rebook: false, cancel: true })
    // A visit that failed leaves the task to be booked again.
    expect(visitActions(TASK, visit('VISIT_STATE_FAILED'), group)).toMatchObject({ book: true, rebook: false, cancel: false })
  })

  it('lets the booked technician report in the order a visit goes', () => {
    const tech = actor('21', ['3'], ENGINEER)
    expect(visitActions(TASK, visit('VISIT_STATE_BOOKED'), tech)).toMatchObject({ onTheWay: true, arrived: true, done: true, cantDo: true })
    expect(visitActions(TASK, visit('VISIT_STATE_ON_THE_WAY'), tech)).toMatchObject({ onTheWay: false, arrived: true, done: true })
    expect(visitActions(TASK, visit('VISIT_STATE_ARRIVED'), tech)).toMatchObject({ onTheWay: false, arrived: false, done: true, cantDo: true })
    // Another member of the group books, but does not report.
    expect(visitActions(TASK, visit('VISIT_STATE_BOOKED'), actor('22', ['3'], ENGINEER))).toMatchObject({ onTheWay: false, done: false, cantDo: false })
    // A supervisor may report for a technician who phoned in.
    expect(visitActions(TASK, visit('VISIT_STATE_BOOKED'), actor('1', [], SUPERVISOR))).toMatchObject({ arrived: true, done: true })
  })

  it('says who books for a group on the calendar', () => {
    expect(booksFor('3', actor('5', ['3'], ENGINEER))).toBe(true)
    expect(booksFor('3', actor('5', ['1'], ENGINEER))).toBe(false)
    expect(booksFor('3', actor('5', [], SUPERVISOR))).toBe(true)
    expect(booksFor('3', actor('5', ['3'], ['tasks.read']))).toBe(false)
  })
})
