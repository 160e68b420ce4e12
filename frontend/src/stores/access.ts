// Roles and the permissions they grant (read-only in the console).

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

  return { roles, permissions, loading, loaded, error, load }
})
