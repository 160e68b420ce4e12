import { computed } from 'vue'
import { useAuthStore } from '@/stores/auth'
import type { Actor } from './permissions'

/** The signed-in person as the task rules see them. */
export function useActor() {
  const auth = useAuthStore()
  return computed<Actor>(() => ({
    userId: auth.user?.id ?? '',
    groupIds: (auth.me?.groups ?? []).map((g) => g.id ?? '').filter(Boolean),
    can: auth.can,
  }))
}
