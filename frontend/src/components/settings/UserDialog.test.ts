import { describe, expect, it, vi } from 'vitest'
import type { User } from '@/api/client'
import { ApiError } from '@/api/errors'
import { settle } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import UserDialog from './UserDialog.vue'

const ROLES = [{ name: 'admin' }, { name: 'operator' }, { name: 'viewer' }]
const OLGA: User = { id: '4', login: 'olga', displayName: 'Olga', roles: ['operator'], active: true, language: 'ru' }

function open(user: User | null, create = vi.fn(async (_u: User) => {}), update = vi.fn(async (_id: string, _p: object, _m: string[]) => {})) {
  const { wrapper } = mountWith(UserDialog, { props: { visible: true, user, roles: ROLES, create, update } })
  const form = () => document.body.querySelector('[data-testid=user-dialog] form') as HTMLFormElement
  return { wrapper, form, create, update }
}

const input = (testid: string) => document.body.querySelector<HTMLInputElement>(`[data-testid=${testid}]`)!
const byId = (id: string) => document.getElementById(id) as HTMLInputElement
async function type(el: HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await settle(1)
}

describe('the user dialog', () => {
  it('refuses a short password and a bad login before asking the server', async () => {
    const { wrapper, form, create } = open(null)
    await settle()
    await type(input('user-login'), 'a b')
    await type(input('user-display-name'), 'Boris')
    await type(byId('user-password'), 'short')
    form().dispatchEvent(new Event('submit'))
    await settle()
    expect(create).not.toHaveBeenCalled()
    const text = document.body.querySelector('[data-testid=user-dialog]')!.textContent ?? ''
    expect(text).toContain('3 to 64 characters')
    expect(text).toContain('At least 12 characters.')
    expect(text).toContain('Give at least one role.')
    wrapper.unmount()
  })

  it('sends only what changed when editing, and no password unless one is typed', async () => {
    const { wrapper, form, update } = open(OLGA)
    await settle()
    await type(input('user-display-name'), 'Olga Ivanova')
    form().dispatchEvent(new Event('submit'))
    await settle()
    expect(update).toHaveBeenCalledWith('4', expect.objectContaining({ displayName: 'Olga Ivanova' }), ['displayName'])
    expect(update.mock.calls[0]![1]).not.toHaveProperty('password')
    wrapper.unmount()
  })

  it('shows a taken login at the login field', async () => {
    const create = vi.fn(async () => {
      throw new ApiError({ status: 409, code: 6, message: 'the login olga is taken by another user; choose another', fieldErrors: { login: 'the login olga is taken by another user; choose another' }, reason: 'DUPLICATE_LOGIN' })
    })
    const { wrapper, form } = open(null, create)
    await settle()
    await type(input('user-login'), 'Olga')
    await type(input('user-display-name'), 'Olga')
    await type(byId('user-password'), 'a-long-enough-password')
    input('user-roles').click()
    await settle()
    const option = [...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((o) => o.textContent?.includes('Operator'))
    option!.click()
    await settle()
    form().dispatchEvent(new Event('submit'))
    await settle()
    expect(create).toHaveBeenCalledWith(expect.objectContaining({ login: 'olga', roles: ['operator'], password: 'a-long-enough-password' }))
    const err = input('user-login').parentElement!.querySelector('[data-testid=field-error]')
    expect(err?.textContent).toContain('the login olga is taken')
    wrapper.unmount()
  })
})
