import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { User } from '@/api/client'
import { ApiError } from '@/api/errors'
import { mountWith } from '@/test/mount'
import UserDialog from './UserDialog.vue'

const ROLES = [{ name: 'admin' }, { name: 'operator' }, { name: 'viewer' }]
const OLGA: User = { id: '4', login: 'olga', displayName: 'Olga', roles: ['operator'], active: true, language: 'ru', groupIds: ['1'] }

const GROUPS = [
  { id: '1', name: 'Sales' },
  { id: '2', name: 'Installers' },
]

function open(
  user: User | null,
  create = vi.fn(async (_u: User, _g: string[]) => {}),
  update = vi.fn(async (_u: User, _p: object, _m: string[], _g: string[]) => {}),
) {
  const { wrapper } = mountWith(UserDialog, { props: { visible: true, user, roles: ROLES, groups: GROUPS, create, update } })
  const form = () => document.body.querySelector('[data-testid=user-dialog] form') as HTMLFormElement
  return { wrapper, form, create, update }
}

const input = (testid: string) => document.body.querySelector<HTMLInputElement>(`[data-testid=${testid}]`)!
const byId = (id: string) => document.getElementById(id) as HTMLInputElement
async function type(el: HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('the user dialog', () => {
  it('refuses a short password and a bad login before asking the server', async () => {
    const { wrapper, form, create } = open(null)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    await type(input('user-login'), 'a b')
    await type(input('user-display-name'), 'Boris')
    await type(byId('user-password'), 'short')
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(document.body.querySelector('[data-testid=user-dialog]')!.textContent).toContain('Give at least one role.'))
    expect(create).not.toHaveBeenCalled()
    const text = document.body.querySelector('[data-testid=user-dialog]')!.textContent ?? ''
    expect(text).toContain('3 to 64 characters')
    expect(text).toContain('At least 12 characters.')
    expect(text).toContain('Give at least one role.')
    wrapper.unmount()
  })

  it('sends only what changed when editing, and no password unless one is typed', async () => {
    const { wrapper, form, update } = open(OLGA)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    await type(input('user-display-name'), 'Olga Ivanova')
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(update).toHaveBeenCalled())
    expect(update).toHaveBeenCalledWith(OLGA, expect.objectContaining({ displayName: 'Olga Ivanova' }), ['displayName'], ['1'])
    expect(update.mock.calls[0]![1]).not.toHaveProperty('password')
    wrapper.unmount()
  })

  it('shows a taken login at the login field', async () => {
    const create = vi.fn(async () => {
      throw new ApiError({
        status: 409,
        code: 6,
        message: 'the login olga is taken by another user; choose another',
        fieldErrors: { login: 'the login olga is taken by another user; choose another' },
        reason: 'DUPLICATE_LOGIN',
      })
    })
    const { wrapper, form } = open(null, create)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    await type(input('user-login'), 'Olga')
    await type(input('user-display-name'), 'Olga')
    await type(byId('user-password'), 'a-long-enough-password')
    input('user-roles').click()
    await vi.waitFor(() => expect(document.body.querySelectorAll('[role=option]').length).toBeGreaterThan(0))
    const option = [...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((o) => o.textContent?.includes('Operator'))
    option!.click()
    await flushPromises()
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(create).toHaveBeenCalled())
    await flushPromises()
    expect(create).toHaveBeenCalledWith(expect.objectContaining({ login: 'olga', roles: ['operator'], password: 'a-long-enough-password' }), [])
    const err = input('user-login').parentElement!.querySelector('[data-testid=field-error]')
    expect(err?.textContent).toContain('the login olga is taken')
    wrapper.unmount()
  })

  it('puts the user in the groups chosen, and saves a change of groups alone', async () => {
    const { wrapper, form, update } = open(OLGA)
    await vi.waitFor(() => expect(input('user-groups')).not.toBeNull())
    input('user-groups').click()
    await vi.waitFor(() => expect(document.body.querySelectorAll('[role=option]').length).toBeGreaterThan(0))
    const option = [...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((o) => o.textContent?.includes('Installers'))
    option!.click()
    await flushPromises()
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(update).toHaveBeenCalled())
    expect(update).toHaveBeenCalledWith(OLGA, expect.anything(), [], ['1', '2'])
    wrapper.unmount()
  })
})
