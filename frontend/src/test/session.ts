// Signs a test in: a stored session and the /auth/me answer the mock gives.
import type { Pinia } from 'pinia'
import { useAuthStore } from '@/stores/auth'
import { makeTestPinia } from './mount'

export async function signedIn(): Promise<Pinia> {
  localStorage.setItem('crm.session', JSON.stringify({ accessToken: 't', expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  return pinia
}

/** An engineer in the given groups: works tasks of those groups only. */
export function memberMe(groupIds: string[], extra: string[] = []) {
  return {
    user: { id: '7', login: 'ivan', displayName: 'Ivan Installer', active: true, roles: ['engineer'] },
    roles: ['engineer'],
    permissions: ['customers.read', 'contracts.read', 'tasks.read', 'tasks.work', 'settings.read', ...extra],
    groups: groupIds.map((id) => ({ id, name: `Group ${id}` })),
    telegramLinked: true,
    profile: { displayName: 'Ivan Installer', language: 'en', notifySelf: false },
  }
}
