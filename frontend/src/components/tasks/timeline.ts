// A task's timeline: its events (moves, assignments, SLA, close) and its
// comments in one list, oldest first. A comment made while completing or
// returning is the same step as that move: it is shown once, on the move,
// with the process it was written in.

import type { TaskComment, TaskEvent } from '@/api/client'

export interface TimelineEntry {
  key: string
  time: string
  event?: TaskEvent
  comment?: TaskComment
}

function ms(iso: string | undefined): number {
  const t = iso ? Date.parse(iso) : NaN
  return Number.isNaN(t) ? 0 : t
}

/** Whether a comment was written by the step of this event. */
function sameStep(e: TaskEvent, c: TaskComment): boolean {
  return ms(e.time) === ms(c.createTime) && (e.actorId ?? '') === (c.authorId ?? '') && (e.text ?? '').trim() === (c.text ?? '').trim()
}

export function mergeTimeline(events: TaskEvent[], comments: TaskComment[]): TimelineEntry[] {
  const left = [...comments]
  const out: TimelineEntry[] = events.map((e) => {
    let comment: TaskComment | undefined
    if (e.text) {
      const i = left.findIndex((c) => sameStep(e, c))
      if (i >= 0) comment = left.splice(i, 1)[0]
    }
    return { key: `e${e.id ?? ''}`, time: e.time ?? '', event: e, comment }
  })
  for (const c of left) out.push({ key: `c${c.id ?? ''}`, time: c.createTime ?? '', comment: c })
  // Stable: events keep their order within the same instant.
  return out
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => ms(a.entry.time) - ms(b.entry.time) || a.i - b.i)
    .map(({ entry }) => entry)
}

/** Who a comment is between: staff only (''), from the customer, or to them. */
export type CommentSide = '' | 'from-customer' | 'to-customer'

export function commentSide(c: TaskComment | undefined): CommentSide {
  switch (c?.audience) {
    case 'COMMENT_AUDIENCE_FROM_CUSTOMER':
      return 'from-customer'
    case 'COMMENT_AUDIENCE_TO_CUSTOMER':
      return 'to-customer'
    default:
      return ''
  }
}
