// Groups of people that tasks are routed to, and their members.

import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api, ok, type Group, type User } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

export const useGroupsStore = defineStore('groups', () => {
  const groups = shallowRef<Group[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const res = await ok(api.GET('/api/v1/groups'))
      groups.value = [...(res.groups ?? [])].sort((a, b) => a.name.localeCompare(b.name))
      loaded.value = true
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      loading.value = false
    }
  }

  async function create(group: Pick<Group, 'name' | 'description'>): Promise<Group> {
    const created = await ok(api.POST('/api/v1/groups', { body: group }))
    groups.value = [...groups.value, created].sort((a, b) => a.name.localeCompare(b.name))
    return created
  }

  async function members(groupId: string): Promise<User[]> {
    const res = await ok(api.GET('/api/v1/groups/{group_id}/members', { params: { path: { group_id: groupId } } }))
    return res.members ?? []
  }

  function bumpCount(groupId: string, by: number): void {
    groups.value = groups.value.map((g) => (g.id === groupId ? { ...g, memberCount: Math.max(0, (g.memberCount ?? 0) + by) } : g))
  }

  async function addMember(groupId: string, userId: string): Promise<void> {
    await ok(api.POST('/api/v1/groups/{group_id}/members', { params: { path: { group_id: groupId } }, body: { userId } }))
    bumpCount(groupId, 1)
  }

  async function removeMember(groupId: string, userId: string): Promise<void> {
    await ok(api.DELETE('/api/v1/groups/{group_id}/members/{user_id}', { params: { path: { group_id: groupId, user_id: userId } } }))
    bumpCount(groupId, -1)
  }

  return { groups, loading, loaded, error, load, create, members, addMember, removeMember }
})
