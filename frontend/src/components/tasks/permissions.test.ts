import { describe, expect, it } from 'vitest'
import type { Task } from '@/api/client'
import { earlierProcesses, NO_ACTIONS, taskActions, worksCurrentProcess, type Actor } from './permissions'

const PROCESSES = [
  { id: '1', name: 'Sales check', groupId: '10', position: 1 },
  { id: '2', name: 'Technical feasibility', groupId: '20', position: 2 },
  { id: '3', name: 'Installation', groupId: '30', position: 3 },
]

function task(over: Partial<Task> = {}): Task {
  return { id: '9', number: 'T-000009', state: 'TASK_STATE_OPEN', currentProcess: PROCESSES[1], processes: PROCESSES, createdBy: '5', ...over }
}

function actor(userId: string, groupIds: string[], perms: string[]): Actor {
  return { userId, groupIds, can: (...p: string[]) => p.every((x) => perms.includes(x)) }
}

const WORKER = ['tasks.read', 'tasks.work']
const OPERATOR = ['tasks.read', 'tasks.work', 'tasks.create']
const SUPERVISOR = ['tasks.read', 'tasks.work', 'tasks.create', 'tasks.manage']
const VIEWER = ['tasks.read']

describe('the commands a person may give a task', () => {
  it('lets a member of the current process’s group take, complete, return and assign it, but not cancel it', () => {
    expect(taskActions(task(), actor('7', ['20'], WORKER))).toEqual({
      take: true,
      complete: true,
      return: true,
      assign: true,
      cancel: false,
      comment: true,
      reopen: false,
    })
  })

  it('gives a member of another group nothing, not even the comment', () => {
    expect(taskActions(task(), actor('7', ['10', '30'], WORKER))).toEqual(NO_ACTIONS)
    expect(worksCurrentProcess(task(), actor('7', ['10'], WORKER))).toBe(false)
  })

  it('lets a holder of tasks.manage do everything whatever their groups', () => {
    expect(taskActions(task(), actor('1', [], SUPERVISOR))).toEqual({
      take: true,
      complete: true,
      return: true,
      assign: true,
      cancel: true,
      comment: true,
      reopen: false,
    })
  })

  it('shows a viewer nothing to do, even in the right group', () => {
    expect(taskActions(task(), actor('7', ['20'], VIEWER))).toEqual(NO_ACTIONS)
  })

  it('offers no take to the one who already has it', () => {
    expect(taskActions(task({ assigneeId: '7' }), actor('7', ['20'], WORKER)).take).toBe(false)
    expect(taskActions(task({ assigneeId: '8' }), actor('7', ['20'], WORKER)).take).toBe(true)
  })

  it('offers no return from the first process', () => {
    expect(taskActions(task({ currentProcess: PROCESSES[0] }), actor('7', ['10'], WORKER)).return).toBe(false)
  })

  it('lets the creator cancel only while the task is in its first process', () => {
    const creator = actor('5', [], OPERATOR)
    expect(taskActions(task({ currentProcess: PROCESSES[0] }), creator).cancel).toBe(true)
    expect(taskActions(task({ currentProcess: PROCESSES[1] }), creator).cancel).toBe(false)
    expect(taskActions(task({ currentProcess: PROCESSES[0] }), actor('6', [], OPERATOR)).cancel).toBe(false)
  })

  it('offers nothing on a closed or cancelled task past its reopening period', () => {
    for (const state of ['TASK_STATE_CLOSED', 'TASK_STATE_CANCELLED'] as const) {
      expect(Object.values(taskActions(task({ state }), actor('1', ['20'], SUPERVISOR))).some(Boolean)).toBe(false)
      const past = new Date(Date.now() - 1000).toISOString()
      expect(Object.values(taskActions(task({ state, reopenUntil: past }), actor('1', ['20'], SUPERVISOR))).some(Boolean)).toBe(false)
    }
  })

  it('offers only the reopening of an ended task within its period, to the group it ended in and to supervisors', () => {
    const ended = task({ state: 'TASK_STATE_CLOSED', reopenUntil: new Date(Date.now() + 86_400_000).toISOString() })
    expect(taskActions(ended, actor('7', ['20'], WORKER))).toEqual({ ...NO_ACTIONS, reopen: true })
    expect(taskActions(ended, actor('1', [], SUPERVISOR)).reopen).toBe(true)
    expect(taskActions(ended, actor('7', ['10'], WORKER)).reopen).toBe(false)
    expect(taskActions(ended, actor('7', ['20'], VIEWER)).reopen).toBe(false)
  })

  it('lists the processes before the current one as return targets', () => {
    expect(earlierProcesses(task({ currentProcess: PROCESSES[2] })).map((p) => p.id)).toEqual(['1', '2'])
    expect(earlierProcesses(task({ currentProcess: PROCESSES[0] }))).toEqual([])
  })
})
