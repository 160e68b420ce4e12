// Field visits' calls: a task's booking and its commands (book or rebook,
// cancel, the technician's reports), the visits of a group or a technician
// over a span, and a group's working time. Plain functions: each screen
// keeps what it read. A task's own booking comes with the task (GetTask's
// `visit`), so the task page needs no call of its own for it.

import { api, ok, type Schedule, type Visit, type VisitReport } from '@/api/client'

export interface BookingRequest {
  startTime: string
  endTime: string
  technicianIds: string[]
  /** Empty: the contract's address. */
  address?: string
  note?: string
  /** Outside working time or over a technician's daily limit (supervisors only). */
  override?: boolean
  /** The process the dispatcher saw the task in. */
  processId?: string
}

export interface VisitQuery {
  groupId?: string
  /** A user id, or "me". */
  technician?: string
  from: Date
  to: Date
  includeCancelled?: boolean
}

export async function book(taskId: string, req: BookingRequest): Promise<Visit> {
  return ok(
    api.POST('/api/v1/tasks/{task_id}:bookVisit', {
      params: { path: { task_id: taskId } },
      body: {
        startTime: req.startTime,
        endTime: req.endTime,
        technicianIds: req.technicianIds,
        address: req.address?.trim() || undefined,
        note: req.note?.trim() || undefined,
        override: req.override || undefined,
        processId: req.processId || undefined,
      },
    }),
  )
}

export async function cancel(taskId: string, reason: string): Promise<Visit> {
  return ok(api.POST('/api/v1/tasks/{task_id}:cancelVisit', { params: { path: { task_id: taskId } }, body: { reason: reason.trim() } }))
}

export async function report(taskId: string, report: VisitReport, comment = ''): Promise<Visit> {
  return ok(
    api.POST('/api/v1/tasks/{task_id}:reportVisit', {
      params: { path: { task_id: taskId } },
      body: { report, comment: comment.trim() || undefined },
    }),
  )
}

/** Visits whose window meets [from, to), earliest first. */
export async function list(q: VisitQuery): Promise<Visit[]> {
  const res = await ok(
    api.GET('/api/v1/visits', {
      params: {
        query: {
          groupId: q.groupId || undefined,
          technician: q.technician || undefined,
          from: q.from.toISOString(),
          to: q.to.toISOString(),
          includeCancelled: q.includeCancelled || undefined,
        },
      },
    }),
  )
  return res.visits ?? []
}

export async function schedule(groupId: string): Promise<Schedule> {
  return ok(api.GET('/api/v1/groups/{group_id}/schedule', { params: { path: { group_id: groupId } } }))
}

/** Replaces a group's working time; expectedVersion is the one the editor started from. */
export async function saveSchedule(groupId: string, body: Schedule, expectedVersion: number): Promise<Schedule> {
  return ok(
    api.PUT('/api/v1/groups/{group_id}/schedule', {
      params: { path: { group_id: groupId }, query: { expectedVersion } },
      body,
    }),
  )
}
