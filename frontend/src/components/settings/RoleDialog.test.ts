import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Role } from '@/api/client'
import { ApiError } from '@/api/errors'
import { mountWith } from '@/test/mount'
import RoleDialog from './RoleDialog.vue'
import { asked } from '@/test/confirmYes'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))

const PERMISSIONS = [{ name: 'tasks.read' }, { name: 'tasks.work' }, { name: 'customers.read' }]
const NIGHT: Role = { name: 'night-shift', description: 'Night desk', permissions: ['tasks.read'], builtIn: false, userCount: 2 }

function open(role: Role | null, save = vi.fn(async () => {}), remove = vi.fn(async () => {})) {
  const { wrapper } = mountWith(RoleDialog, { props: { visible: true, role, permissions: PERMISSIONS, save, remove } })
  const dialog = () => document.body.querySelector('[data-testid=role-dialog]') as HTMLElement
  const form = () => dialog().querySelector('form') as HTMLFormElement
  return { wrapper, dialog, form, save, remove }
}

const input = (testid: string) => document.body.querySelector<HTMLInputElement>(`[data-testid="${testid}"]`)!
async function type(el: HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}
async function tick(testid: string) {
  input(testid).querySelector('input')!.click()
  await flushPromises()
}

describe('the role dialog', () => {
  it('refuses a name that is not a code and a role with no permission before asking the server', async () => {
    const { wrapper, dialog, form, save } = open(null)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    await type(input('role-name'), 'Night shift')
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(dialog().textContent).toContain('Pick at least one permission.'))
    expect(dialog().textContent).toContain('2 to 64 characters')
    expect(save).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('makes a role of the permissions ticked, named in words', async () => {
    const { wrapper, dialog, form, save } = open(null)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    expect(dialog().textContent).toContain('See tasks and queues')
    await type(input('role-name'), 'night-shift')
    await type(input('role-description'), ' Night desk ')
    await tick('perm-tasks.read')
    await tick('perm-tasks.work')
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(save).toHaveBeenCalled())
    expect(save).toHaveBeenCalledWith({ name: 'night-shift', description: 'Night desk', permissions: ['tasks.read', 'tasks.work'] }, true)
    wrapper.unmount()
  })

  it('shows a permission the server refused at the permissions, and keeps the dialog open', async () => {
    const save = vi.fn(async () => {
      throw new ApiError({ status: 400, code: 3, message: 'bad', fieldErrors: { 'permissions[0]': 'there is no permission "tasks.fly"' } })
    })
    const { wrapper, dialog, form } = open(NIGHT, save)
    await vi.waitFor(() => expect(form()).not.toBeNull())
    form().dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(dialog().textContent).toContain('there is no permission "tasks.fly"'))
    expect(save).toHaveBeenCalledWith({ name: 'night-shift', description: 'Night desk', permissions: ['tasks.read'] }, false)
    wrapper.unmount()
  })

  it('does not offer to remove a role users hold, and says why', async () => {
    const { wrapper, dialog } = open(NIGHT)
    await vi.waitFor(() => expect(dialog()).not.toBeNull())
    expect(input('role-name')).toBeNull()
    expect((input('role-remove') as unknown as HTMLButtonElement).disabled).toBe(true)
    expect(dialog().textContent).toContain('2 users hold the role')
    wrapper.unmount()
  })

  it('removes a role nobody holds once confirmed', async () => {
    const remove = vi.fn(async () => {})
    const { wrapper } = open({ ...NIGHT, userCount: 0 }, undefined, remove)
    await vi.waitFor(() => expect(input('role-remove')).not.toBeNull())
    input('role-remove').click()
    await vi.waitFor(() => expect(remove).toHaveBeenCalledWith('night-shift'))
    expect(asked.at(-1)?.message).toContain('Nobody will keep its permissions')
    wrapper.unmount()
  })
})
