// The Telegram delivery queue at a glance (supervisors watch it on the home page).

import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { api, ok, type DeliveryStats } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

export const useNotificationsStore = defineStore('notifications', () => {
  const stats = shallowRef<DeliveryStats | null>(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = shallowRef<ApiError | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      stats.value = await ok(api.GET('/api/v1/notifications:stats'))
      loaded.value = true
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      loading.value = false
    }
  }

  return { stats, loading, loaded, error, load }
})
