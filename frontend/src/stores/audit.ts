// The audit log: who did what, newest first, filtered by action and actor.

import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { api, ok, type AuditEvent } from '@/api/client'
import { usePagedList } from '@/composables/usePagedList'

export const AUDIT_PAGE_SIZE = 50

export interface AuditFilters {
  actionPrefix: string
  actorId: string
}

export const useAuditStore = defineStore('audit', () => {
  const filters = reactive<AuditFilters>({ actionPrefix: '', actorId: '' })
  const events = usePagedList<AuditEvent>(async (pageToken) => {
    const res = await ok(
      api.GET('/api/v1/audit', {
        params: {
          query: {
            pageSize: AUDIT_PAGE_SIZE,
            pageToken: pageToken || undefined,
            actionPrefix: filters.actionPrefix.trim() || undefined,
            actorId: filters.actorId || undefined,
          },
        },
      }),
    )
    return { items: res.auditEvents ?? [], nextPageToken: res.nextPageToken }
  })

  async function apply(next: Partial<AuditFilters>): Promise<void> {
    Object.assign(filters, next)
    await events.reload()
  }

  return { filters, events, apply }
})
