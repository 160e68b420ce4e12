// The one navigation guard: who may see a route. A route is public
// (meta.public) or needs a session; a route and its parents may also name
// the permissions it needs (meta.permissions), all of which the user must
// hold. The server checks again on every call; this keeps people from
// screens that could only fail.

import type { RouteLocationNormalized, RouteLocationRaw } from 'vue-router'
import { ApiError } from '@/api/errors'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in (the login screen). */
    public?: boolean
    /** Permissions the user must all hold. */
    permissions?: string[]
    /** i18n key of the page title. */
    title?: string
  }
}

/** What the guard needs to know about the session. */
export interface GuardSession {
  readonly isAuthenticated: boolean
  ensureMe(): Promise<void>
  can(...perms: string[]): boolean
  /** The server allows nothing but a password change until one is made. */
  readonly mustChangePassword?: boolean
}

interface Target extends Pick<RouteLocationNormalized, 'matched' | 'fullPath'> {
  name?: RouteLocationNormalized['name'] | null
}

/** Permissions a route needs: its own and its parents'. */
export function requiredPermissions(to: Pick<RouteLocationNormalized, 'matched'>): string[] {
  return [...new Set(to.matched.flatMap((r) => r.meta.permissions ?? []))]
}

/** A redirect target from the query, only if it stays inside the console. */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null
  return value
}

export async function decide(to: Target, session: GuardSession): Promise<true | RouteLocationRaw> {
  const isPublic = to.matched.some((r) => r.meta.public)
  if (!session.isAuthenticated) {
    if (isPublic) return true
    return to.fullPath === '/' ? { name: 'login' } : { name: 'login', query: { redirect: to.fullPath } }
  }
  if (isPublic) return { name: 'home' }
  try {
    await session.ensureMe()
  } catch (e) {
    if (e instanceof ApiError && e.unauthenticated) {
      return { name: 'login', query: { redirect: to.fullPath } }
    }
    // The server cannot be reached: let the shell show that with a retry.
    return true
  }
  if (!session.isAuthenticated) return { name: 'login', query: { redirect: to.fullPath } }
  if (session.mustChangePassword && to.name !== 'profile') return { name: 'profile' }
  const needed = requiredPermissions(to)
  if (needed.length > 0 && !session.can(...needed)) {
    return to.name === 'forbidden' ? true : { name: 'forbidden', query: { from: to.fullPath } }
  }
  return true
}
