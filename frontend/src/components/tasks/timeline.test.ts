import { describe, expect, it } from 'vitest'
import type { TaskComment, TaskEvent } from '@/api/client'
import { commentSide, mergeTimeline } from './timeline'

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString()

describe('the task timeline', () => {
  it('shows a comment made while completing a process once, on the move, with its process', () => {
    const events: TaskEvent[] = [
      { id: '1', kind: 'TASK_EVENT_KIND_CREATED', time: at(0), actorId: '5', text: 'Connect C-1' },
      { id: '2', kind: 'TASK_EVENT_KIND_ADVANCED', time: at(10), actorId: '5', text: 'checked', processName: 'Feasibility', fromProcessName: 'Sales' },
    ]
    const comments: TaskComment[] = [{ id: '70', authorId: '5', text: 'checked', createTime: at(10), processName: 'Sales' }]
    const entries = mergeTimeline(events, comments)
    expect(entries).toHaveLength(2)
    expect(entries[1]?.event?.kind).toBe('TASK_EVENT_KIND_ADVANCED')
    expect(entries[1]?.comment?.processName).toBe('Sales')
  })

  it('keeps comments the events do not explain, in time order', () => {
    const events: TaskEvent[] = [
      { id: '1', kind: 'TASK_EVENT_KIND_CREATED', time: at(0) },
      { id: '3', kind: 'TASK_EVENT_KIND_CLOSED', time: at(30) },
    ]
    const comments: TaskComment[] = [{ id: '71', authorId: '6', text: 'called the customer', createTime: at(20) }]
    expect(mergeTimeline(events, comments).map((e) => e.key)).toEqual(['e1', 'c71', 'e3'])
  })

  it('does not pair a comment with a move of another author at the same instant', () => {
    const events: TaskEvent[] = [{ id: '2', kind: 'TASK_EVENT_KIND_ADVANCED', time: at(10), actorId: '5', text: 'same words' }]
    const comments: TaskComment[] = [{ id: '72', authorId: '6', text: 'same words', createTime: at(10) }]
    const entries = mergeTimeline(events, comments)
    expect(entries).toHaveLength(2)
    expect(entries[0]?.comment).toBeUndefined()
  })
})

describe('a comment’s side', () => {
  it('tells comments from and to the customer apart from those among staff', () => {
    expect(commentSide({ audience: 'COMMENT_AUDIENCE_FROM_CUSTOMER' })).toBe('from-customer')
    expect(commentSide({ audience: 'COMMENT_AUDIENCE_TO_CUSTOMER' })).toBe('to-customer')
    expect(commentSide({ audience: 'COMMENT_AUDIENCE_UNSPECIFIED' })).toBe('')
    expect(commentSide({})).toBe('')
    expect(commentSide(undefined)).toBe('')
  })
})
