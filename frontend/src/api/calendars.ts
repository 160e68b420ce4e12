// Working-time calendars SLAs count by, and the groups each serves.
// Plain functions: only the calendars screen reads them.

import { api, ok, type Calendar } from '@/api/client'

export async function listCalendars(): Promise<Calendar[]> {
  return (await ok(api.GET('/api/v1/calendars'))).calendars ?? []
}

export async function createCalendar(c: Calendar): Promise<Calendar> {
  return ok(api.POST('/api/v1/calendars', { body: c }))
}

export async function updateCalendar(id: string, c: Calendar): Promise<Calendar> {
  return ok(api.PUT('/api/v1/calendars/{id}', { params: { path: { id } }, body: c }))
}

export async function deleteCalendar(id: string): Promise<void> {
  await ok(api.DELETE('/api/v1/calendars/{id}', { params: { path: { id } } }))
}
