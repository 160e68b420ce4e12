import { describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { ApiError } from '@/api/errors'
import { decide, safeRedirect, type GuardSession } from './guard'
import { visibleNavigation } from './navigation'
import { routes } from './routes'

const router = createRouter({ history: createMemoryHistory(), routes })
const at = (path: string) => router.resolve(path)

function session(perms: string[] | null, ensureMe: () => Promise<void> = async () => {}): GuardSession {
  return {
    isAuthenticated: perms !== null,
    ensureMe: vi.fn(ensureMe),
    can: (...p: string[]) => p.every((x) => perms?.includes(x) ?? false),
  }
}

const VIEWER = ['customers.read', 'contracts.read', 'tasks.read', 'settings.read']
const OPERATOR = ['customers.read', 'customers.write', 'contracts.read', 'contracts.write', 'tasks.read', 'tasks.create', 'tasks.work', 'settings.read']

describe('the navigation guard', () => {
  it('sends a visitor without a session to login, remembering where they were going', async () => {
    expect(await decide(at('/customers/12'), session(null))).toEqual({ name: 'login', query: { redirect: '/customers/12' } })
    expect(await decide(at('/'), session(null))).toEqual({ name: 'login' })
  })

  it('lets a visitor see the login screen', async () => {
    expect(await decide(at('/login'), session(null))).toBe(true)
  })

  it('sends a signed-in user away from the login screen', async () => {
    expect(await decide(at('/login'), session(VIEWER))).toEqual({ name: 'home' })
  })

  it('sends a user who must change their password to the profile, and lets them stay there', async () => {
    const s = { ...session(OPERATOR), mustChangePassword: true }
    expect(await decide(at('/customers/12'), s)).toEqual({ name: 'profile' })
    expect(await decide(at('/profile'), s)).toBe(true)
  })

  it('loads who is signed in before deciding', async () => {
    const s = session(OPERATOR)
    expect(await decide(at('/customers/new'), s)).toBe(true)
    expect(s.ensureMe).toHaveBeenCalled()
  })

  it('keeps a viewer out of the create form and out of user management', async () => {
    expect(await decide(at('/customers/new'), session(VIEWER))).toEqual({ name: 'forbidden', query: { from: '/customers/new' } })
    expect(await decide(at('/settings/users'), session(VIEWER))).toMatchObject({ name: 'forbidden' })
    expect(await decide(at('/settings/audit'), session(OPERATOR))).toMatchObject({ name: 'forbidden' })
  })

  it('lets only holders of imports.run bring a customer base in', async () => {
    expect(await decide(at('/settings/imports'), session(VIEWER))).toMatchObject({ name: 'forbidden' })
    expect(await decide(at('/settings/imports?id=4'), session(OPERATOR))).toMatchObject({ name: 'forbidden' })
    expect(await decide(at('/settings/imports?id=4'), session([...OPERATOR, 'imports.run']))).toBe(true)
  })

  it('keeps a viewer out of the new-connection wizard', async () => {
    expect(await decide(at('/connections/new'), session(VIEWER))).toMatchObject({ name: 'forbidden' })
    expect(await decide(at('/connections/new'), session(OPERATOR))).toBe(true)
  })

  it('lets a viewer read customers, contracts, tasks, groups, roles, tariffs and routes', async () => {
    for (const path of [
      '/customers',
      '/customers/5',
      '/contracts/3',
      '/tasks',
      '/tasks/9',
      '/board',
      '/board/2',
      '/settings/tariffs',
      '/settings/routes/1',
      '/settings/groups',
      '/settings/groups/3',
      '/settings/roles',
      '/profile',
    ]) {
      expect(await decide(at(path), session(VIEWER)), path).toBe(true)
    }
  })

  it('sends to login when the token turns out to be dead', async () => {
    const dead = session(VIEWER, async () => {
      throw new ApiError({ status: 401, code: 16, message: 'ended' })
    })
    expect(await decide(at('/customers'), dead)).toEqual({ name: 'login', query: { redirect: '/customers' } })
  })

  it('lets the shell show an unreachable server instead of blocking navigation', async () => {
    const offline = session(VIEWER, async () => {
      throw new ApiError({ status: 0, code: 14, message: 'Failed to fetch' })
    })
    expect(await decide(at('/customers'), offline)).toBe(true)
  })
})

describe('safeRedirect', () => {
  it('accepts paths inside the console only', () => {
    expect(safeRedirect('/customers/5?x=1')).toBe('/customers/5?x=1')
    expect(safeRedirect('//evil.example')).toBeNull()
    expect(safeRedirect('https://evil.example')).toBeNull()
    expect(safeRedirect('/\\evil.example')).toBeNull()
    expect(safeRedirect(['/a'])).toBeNull()
  })
})

describe('the sidebar', () => {
  const names = (perms: string[]) => visibleNavigation(router, (...p) => p.every((x) => perms.includes(x))).flatMap((s) => s.items.map((i) => i.name))

  it('shows a viewer what the guard lets them open', () => {
    expect(names(VIEWER)).toEqual(['home', 'customers', 'tasks', 'board', 'visits', 'tariffs', 'routes', 'groups', 'roles', 'calendars', 'customer-messages'])
  })

  it('shows an admin everything', () => {
    expect(names([...OPERATOR, 'settings.write', 'users.manage', 'tasks.manage', 'integrations.manage', 'imports.run'])).toEqual([
      'home',
      'customers',
      'connection-new',
      'tasks',
      'board',
      'visits',
      'reports',
      'tariffs',
      'routes',
      'users',
      'groups',
      'roles',
      'calendars',
      'customer-messages',
      'api-tokens',
      'webhooks',
      'imports',
      'audit',
    ])
  })

  it('offers the new connection to those who open contracts, the board to those who read routes, and the visits to every task reader', () => {
    expect(names(OPERATOR)).toContain('connection-new')
    expect(names(['customers.read', 'contracts.read', 'tasks.read'])).toEqual(['home', 'customers', 'tasks', 'visits'])
  })
})
