// Roles and the permissions they grant; admins make their own roles beside
// the five built-in ones.

import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api, ok, type Permission, type Role } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

export const useAccessStore = defineStore('access', () => {
  const roles = shallowRef<Role[]>([])
  const permissions = shallowRef<Permission[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)

  async function load(force = false): Promise<void> {
    if (loaded.value && !force) return
    loading.value = true
    error.value = null
    try {
      const [r, p] = await Promise.all([ok(api.GET('/api/v1/roles')), ok(api.GET('/api/v1/permissions'))])
      roles.value = r.roles ?? []
      permissions.value = p.permissions ?? []
      loaded.value = true
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      loading.value = false
    }
  }

  /** What a role is made of: its description and permissions. */
  type RoleDraft = Pick<Role, 'name' | 'description' | 'permissions'>

  async function create(r: RoleDraft): Promise<Role> {
    const made = await ok(api.POST('/api/v1/roles', { body: r }))
    await load(true)
    return made
  }

  async function update(r: RoleDraft): Promise<Role> {
    const saved = await ok(api.PUT('/api/v1/roles/{name}', { params: { path: { name: r.name ?? '' } }, body: r }))
    await load(true)
    return saved
  }

  async function remove(name: string): Promise<void> {
    await ok(api.DELETE('/api/v1/roles/{name}', { params: { path: { name } } }))
    await load(true)
  }

  return { roles, permissions, loading, loaded, error, load, create, update, remove }
})
