// The session: the access token, who is signed in and what they may do.
// The token lives in localStorage so a reload or a second tab keeps the
// session; it is dropped when it expires, on logout, or when the server
// answers 401 (then `ended` says why, for the login screen).

import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { api, bindSession, ok, type Me, type Profile } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'

const STORAGE_KEY = 'crm.session'
/** setTimeout cannot wait longer than this. */
const MAX_TIMEOUT = 2_147_483_647

interface StoredSession {
  accessToken: string
  expiresAt: string
}

function readStored(): StoredSession | null {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Partial<StoredSession>
    if (typeof s.accessToken !== 'string' || s.accessToken === '') return null
    const expiresAt = typeof s.expiresAt === 'string' ? s.expiresAt : ''
    if (expiresAt && Date.parse(expiresAt) <= Date.now()) return null
    return { accessToken: s.accessToken, expiresAt }
  } catch {
    return null
  }
}

function writeStored(s: StoredSession | null): void {
  try {
    if (s) globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(s))
    else globalThis.localStorage?.removeItem(STORAGE_KEY)
  } catch {
    // storage may be disabled; the session then lasts for this page only
  }
}

/** Why the last session ended without the user asking. */
export type EndReason = 'expired' | null

export const useAuthStore = defineStore('auth', () => {
  const stored = readStored()
  const token = ref<string | null>(stored?.accessToken ?? null)
  const expiresAt = ref<string>(stored?.expiresAt ?? '')
  const me = shallowRef<Me | null>(null)
  // The stores' convention, around reading who is signed in (/auth/me).
  const loading = ref(false)
  const loaded = computed(() => me.value !== null)
  const error = shallowRef<ApiError | null>(null)
  const ended = ref<EndReason>(null)
  let expiryTimer: ReturnType<typeof setTimeout> | undefined
  let mePromise: Promise<void> | null = null

  const isAuthenticated = computed(() => token.value !== null)
  const user = computed(() => me.value?.user ?? null)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  /** The password was set for the user and must be changed before anything else. */
  const mustChangePassword = computed(() => me.value?.mustChangePassword === true)
  /**
   * Supervisors and admins (holders of tasks.manage) see the system's
   * insides: internal ids and the link to the workflow engine's UI. An
   * operator or a viewer sees numbers and names only.
   */
  const seesInternals = computed(() => permissions.value.has('tasks.manage'))
  const displayName = computed(() => me.value?.profile?.displayName || user.value?.displayName || user.value?.login || '')

  /** Whether the signed-in user holds every one of the permissions. */
  function can(...perms: string[]): boolean {
    return perms.every((p) => permissions.value.has(p))
  }

  function scheduleExpiry(): void {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer)
    expiryTimer = undefined
    if (!expiresAt.value) return
    const ms = Date.parse(expiresAt.value) - Date.now()
    if (Number.isNaN(ms)) return
    expiryTimer = setTimeout(() => sessionEnded(), Math.min(Math.max(ms, 0), MAX_TIMEOUT))
  }

  function clear(): void {
    token.value = null
    expiresAt.value = ''
    me.value = null
    error.value = null
    mePromise = null
    if (expiryTimer !== undefined) clearTimeout(expiryTimer)
    expiryTimer = undefined
    writeStored(null)
  }

  async function login(loginName: string, password: string): Promise<void> {
    const res = await ok(api.POST('/api/v1/auth/login', { body: { login: loginName, password } }))
    if (!res.accessToken) throw new Error('the server gave no access token')
    ended.value = null
    token.value = res.accessToken
    expiresAt.value = res.expiresAt ?? ''
    writeStored({ accessToken: res.accessToken, expiresAt: expiresAt.value })
    scheduleExpiry()
    me.value = null
    await loadMe()
  }

  /** Reads who is signed in; a failure is kept in `error` and thrown to the caller too. */
  async function loadMe(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      me.value = await ok(api.GET('/api/v1/auth/me'))
    } catch (e) {
      error.value = asApiError(e)
      throw error.value
    } finally {
      loading.value = false
    }
  }

  /** Loads who is signed in once; concurrent callers share the request. */
  async function ensureMe(): Promise<void> {
    if (me.value || !token.value) return
    mePromise ??= loadMe().finally(() => {
      mePromise = null
    })
    await mePromise
  }

  async function logout(): Promise<void> {
    const had = token.value
    ended.value = null
    try {
      if (had) await api.POST('/api/v1/auth/logout', { body: {} })
    } catch {
      // the session is dropped here either way
    } finally {
      clear()
    }
  }

  /** The server no longer accepts the token (or it ran out). */
  function sessionEnded(): void {
    if (!token.value) return
    clear()
    ended.value = 'expired'
  }

  /** Changes the caller's own preferences; mask names the fields sent. */
  async function updateProfile(patch: Profile, mask: (keyof Profile)[]): Promise<void> {
    const profile = await ok(api.PATCH('/api/v1/auth/me', { params: { query: { updateMask: mask.join(',') } }, body: patch }))
    if (me.value) me.value = { ...me.value, profile: { ...me.value.profile, ...profile } }
  }

  /** Changes the caller's own password; the user's other sessions end. */
  async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await ok(api.POST('/api/v1/auth/password', { body: { currentPassword, newPassword } }))
    if (me.value) me.value = { ...me.value, mustChangePassword: false }
  }

  /** Another tab signed in or out: follow it. */
  function onStorage(e: StorageEvent): void {
    if (e.key !== STORAGE_KEY) return
    const s = readStored()
    if (!s) {
      if (token.value) {
        token.value = null
        clear()
      }
      return
    }
    if (s.accessToken !== token.value) {
      token.value = s.accessToken
      expiresAt.value = s.expiresAt
      me.value = null
      scheduleExpiry()
    }
  }
  globalThis.addEventListener?.('storage', onStorage)

  /** A call was refused until the password is changed: say so, as /auth/me would. */
  function passwordChangeRequired(): void {
    if (me.value && !me.value.mustChangePassword) me.value = { ...me.value, mustChangePassword: true }
  }

  bindSession({ token: () => token.value, ended: sessionEnded, passwordChangeRequired })
  scheduleExpiry()

  return {
    token,
    expiresAt,
    me,
    loading,
    loaded,
    error,
    ended,
    isAuthenticated,
    user,
    displayName,
    mustChangePassword,
    seesInternals,
    permissions,
    can,
    login,
    loadMe,
    ensureMe,
    logout,
    sessionEnded,
    passwordChangeRequired,
    updateProfile,
    changePassword,
  }
})
