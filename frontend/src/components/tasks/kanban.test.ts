import { describe, expect, it } from 'vitest'
import type { Route, Task } from '@/api/client'
import { buildColumns, ELSEWHERE, moveIntent, neighbourKey, replaceTask } from './kanban'

const ROUTE: Route = {
  id: '1',
  name: 'New connection',
  processes: [
    { id: '11', name: 'Sales check', groupId: '1', position: 1 },
    { id: '12', name: 'Feasibility', groupId: '2', position: 2 },
    { id: '13', name: 'Installation', groupId: '3', position: 3 },
  ],
}

const task = (id: string, processId: string, over: Partial<Task> = {}): Task => ({
  id,
  number: `T-${id}`,
  routeId: '1',
  state: 'TASK_STATE_OPEN',
  currentProcess: { id: processId, position: Number(processId) - 10 },
  ...over,
})

describe('the board', () => {
  it('puts each open task in the column of its process, one column per process', () => {
    const cols = buildColumns(ROUTE, [task('1', '11'), task('2', '13'), task('3', '13'), task('4', '12', { state: 'TASK_STATE_CLOSED' })])
    expect(cols.map((c) => c.key)).toEqual(['11', '12', '13'])
    expect(cols.map((c) => c.tasks.map((t) => t.id))).toEqual([['1'], [], ['2', '3']])
  })

  it('puts the more urgent first in a column, keeping the order of equals', () => {
    const cols = buildColumns(ROUTE, [
      task('1', '11'),
      task('2', '11', { priority: 'TASK_PRIORITY_LOW' }),
      task('3', '11', { priority: 'TASK_PRIORITY_URGENT' }),
      task('4', '11', { priority: 'TASK_PRIORITY_NORMAL' }),
      task('5', '11', { priority: 'TASK_PRIORITY_HIGH' }),
    ])
    expect(cols[0]!.tasks.map((t) => t.id)).toEqual(['3', '5', '1', '4', '2'])
  })

  it('gathers tasks in processes the route no longer has in a last column', () => {
    const cols = buildColumns(ROUTE, [task('1', '11'), task('5', '99')])
    expect(cols.at(-1)?.key).toBe(ELSEWHERE)
    expect(cols.at(-1)?.tasks.map((t) => t.id)).toEqual(['5'])
  })

  it('reads a move to the next column as completing the process', () => {
    const cols = buildColumns(ROUTE, [task('1', '11')])
    expect(moveIntent(cols, task('1', '11'), '12')).toEqual({ kind: 'advance' })
  })

  it('reads a move to an earlier column as a return to that process', () => {
    const cols = buildColumns(ROUTE, [task('1', '13')])
    expect(moveIntent(cols, task('1', '13'), '11')).toEqual({ kind: 'return', toProcessId: '11' })
  })

  it('refuses to skip a process, and ignores a drop on the same column', () => {
    const cols = buildColumns(ROUTE, [task('1', '11')])
    expect(moveIntent(cols, task('1', '11'), '13').kind).toBe('skip')
    expect(moveIntent(cols, task('1', '11'), '11').kind).toBe('none')
    expect(moveIntent(cols, task('1', '11'), ELSEWHERE).kind).toBe('unknown')
  })

  it('finds the neighbouring column for the arrow keys', () => {
    const cols = buildColumns(ROUTE, [])
    expect(neighbourKey(cols, task('1', '12'), 1)).toBe('13')
    expect(neighbourKey(cols, task('1', '12'), -1)).toBe('11')
    expect(neighbourKey(cols, task('1', '13'), 1)).toBeNull()
    expect(neighbourKey(cols, task('1', '11'), -1)).toBeNull()
  })

  it('moves a card with the answer, and drops it once the task closed', () => {
    const tasks = [task('1', '11'), task('2', '12')]
    expect(replaceTask(tasks, task('1', '12')).map((t) => t.currentProcess?.id)).toEqual(['12', '12'])
    expect(replaceTask(tasks, task('2', '12', { state: 'TASK_STATE_CLOSED' })).map((t) => t.id)).toEqual(['1'])
  })
})
