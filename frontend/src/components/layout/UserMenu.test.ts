import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import UserMenu from './UserMenu.vue'

/** The text a screen reader takes a name from: the content, less what is hidden from it. */
function nameFromContent(el: Element): string {
  const copy = el.cloneNode(true) as Element
  copy.querySelectorAll('[aria-hidden=true]').forEach((n) => n.remove())
  return (copy.textContent ?? '').replace(/\s+/g, ' ').trim()
}

describe('the user menu', () => {
  it('is named by the name it shows, and says it is the user menu', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const pinia = await signedIn()
    const { wrapper } = mountWith(UserMenu, { pinia })
    const button = wrapper.get('[data-testid=user-menu]')
    // An aria-label would replace the visible name for speech-input users.
    expect(button.attributes('aria-label')).toBeUndefined()
    expect(nameFromContent(button.element)).toBe('Anna Admin User menu')
    expect(button.get('.user-menu__avatar').attributes('aria-hidden')).toBe('true')
    wrapper.unmount()
  })
})

describe('the user menu, opened', () => {
  it('is mounted on first use and shows the login, the profile and sign-out', async () => {
    mockApi({ 'GET /api/v1/auth/me': () => ADMIN_ME })
    const pinia = await signedIn()
    const { wrapper } = mountWith(UserMenu, { pinia })
    expect(document.querySelector('[data-testid=user-menu-items]')).toBeNull()
    await wrapper.get('[data-testid=user-menu]').trigger('click')
    await vi.waitFor(() => expect(document.querySelector('[data-testid=user-menu-items]')).not.toBeNull())
    const items = document.querySelector('[data-testid=user-menu-items]')!.textContent
    expect(items).toContain(ADMIN_ME.user.login)
    expect(items).toContain('Profile')
    expect(items).toContain('Sign out')
    wrapper.unmount()
  })
})
