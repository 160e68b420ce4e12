// Users of the console (for holders of users.manage).

import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ok, type User } from '@/api/client'
import { usePagedList } from '@/composables/usePagedList'

export const USERS_PAGE_SIZE = 50

export type UserPatch = Pick<User, 'displayName' | 'roles' | 'active' | 'password' | 'language'>

export const useUsersStore = defineStore('users', () => {
  const query = ref('')
  const list = usePagedList<User>(async (pageToken) => {
    const res = await ok(
      api.GET('/api/v1/users', {
        params: { query: { query: query.value.trim() || undefined, pageSize: USERS_PAGE_SIZE, pageToken: pageToken || undefined } },
      }),
    )
    return { items: res.users ?? [], nextPageToken: res.nextPageToken }
  })

  async function search(q: string): Promise<void> {
    query.value = q
    await list.reload()
  }

  async function create(user: User): Promise<User> {
    const created = await ok(api.POST('/api/v1/users', { body: user }))
    list.prepend(created)
    return created
  }

  /** Changes the fields named by mask (a password only when one is given). */
  async function update(id: string, patch: UserPatch, mask: (keyof UserPatch)[]): Promise<User> {
    const updated = await ok(
      api.PATCH('/api/v1/users/{id}', {
        params: { path: { id }, query: { updateMask: mask.join(',') } },
        body: patch,
      }),
    )
    list.replace((u) => u.id === id, updated)
    return updated
  }

  /**
   * Puts the user in exactly these groups: joins the new ones and leaves
   * the others (membership is kept by the groups, one call each).
   */
  async function setGroups(user: User, groupIds: string[]): Promise<void> {
    if (!user.id) return
    const id = user.id
    const before = new Set(user.groupIds ?? [])
    const after = new Set(groupIds)
    const calls: Promise<unknown>[] = []
    for (const g of after)
      if (!before.has(g)) calls.push(ok(api.POST('/api/v1/groups/{group_id}/members', { params: { path: { group_id: g } }, body: { userId: id } })))
    for (const g of before)
      if (!after.has(g)) calls.push(ok(api.DELETE('/api/v1/groups/{group_id}/members/{user_id}', { params: { path: { group_id: g, user_id: id } } })))
    if (calls.length === 0) return
    try {
      await Promise.all(calls)
    } finally {
      // Read the user again either way, so the list shows what holds now.
      const fresh = await ok(api.GET('/api/v1/users/{id}', { params: { path: { id } } })).catch(() => null)
      if (fresh) list.replace((u) => u.id === id, fresh)
    }
  }

  /** Users whose login or name contains the text (for pickers). */
  async function find(text: string, pageSize = 20): Promise<User[]> {
    const res = await ok(api.GET('/api/v1/users', { params: { query: { query: text.trim() || undefined, pageSize } } }))
    return res.users ?? []
  }

  return { query, list, search, create, update, setGroups, find }
})
