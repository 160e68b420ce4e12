// The supervisors' reports. Plain functions: only the reports screen reads them.

import { api, ok, type Schemas } from '@/api/client'

export type TaskReport = Schemas['crm.task.v1.GetTaskReportResponse']

export interface ReportQuery {
  from: string
  to: string
  routeId?: string
  groupId?: string
}

export async function taskReport(q: ReportQuery): Promise<TaskReport> {
  return ok(
    api.GET('/api/v1/reports/tasks', { params: { query: { from: q.from, to: q.to, routeId: q.routeId || undefined, groupId: q.groupId || undefined } } }),
  )
}
