import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import { useConsoleConfigStore } from '@/stores/consoleConfig'
import { useWorkflowLink, type WorkflowLinkDeps } from './useWorkflowLink'

const URL_OF_WORKFLOW = '/temporal/namespaces/crm/workflows/task-9'

/** A tab as window.open gives it, recording where it was sent. */
function fakeTab() {
  return { opener: {} as unknown, location: { href: 'about:blank' }, closed: false, close: vi.fn() }
}

function click() {
  return new MouseEvent('click', { cancelable: true })
}

function setUp(ticketed: boolean, ticket: () => Promise<void>, tab: ReturnType<typeof fakeTab> | null = fakeTab()) {
  setActivePinia(createPinia())
  const config = useConsoleConfigStore()
  config.temporalUiTicket = ticketed
  const order: string[] = []
  const deps: WorkflowLinkDeps = {
    ticket: vi.fn(async () => {
      order.push('ticket')
      await ticket()
    }),
    openTab: vi.fn(() => {
      order.push('tab')
      return tab as unknown as Window
    }),
    assign: vi.fn((url: string) => {
      order.push(`assign ${url}`)
    }),
  }
  const refused = vi.fn()
  return { link: useWorkflowLink(refused, deps), deps, refused, tab, order }
}

describe('the link to a task’s workflow', () => {
  beforeEach(() => vi.restoreAllMocks())

  it('is followed as it is when the UI is a stack’s own (no ticket)', async () => {
    const { link, deps } = setUp(false, async () => {})
    const e = click()
    await link.follow(e, 'http://127.0.0.1:8233/namespaces/crm/workflows/task-9')
    expect(e.defaultPrevented).toBe(false)
    expect(deps.ticket).not.toHaveBeenCalled()
    expect(deps.openTab).not.toHaveBeenCalled()
  })

  it('opens a tab at the click, then sends it to the workflow once the ticket is set', async () => {
    let settle = () => {}
    const { link, tab, order } = setUp(true, () => new Promise<void>((resolve) => (settle = resolve)))
    const e = click()
    const following = link.follow(e, URL_OF_WORKFLOW)
    expect(e.defaultPrevented).toBe(true)
    // the tab is opened within the click; it stays blank until the ticket is set
    expect(order).toEqual(['tab', 'ticket'])
    expect(tab!.location.href).toBe('about:blank')
    settle()
    await following
    expect(tab!.location.href).toBe(`${location.origin}${URL_OF_WORKFLOW}`)
    expect(tab!.opener).toBeNull()
  })

  it('closes the tab and says why when the gateway refuses the ticket', async () => {
    const refusal = new ApiError({ status: 403, code: 7, message: 'the Temporal Web UI is open to roles with the permission tasks.manage' })
    const { link, tab, refused } = setUp(true, () => Promise.reject(refusal))
    await link.follow(click(), URL_OF_WORKFLOW)
    expect(tab!.close).toHaveBeenCalled()
    expect(tab!.location.href).toBe('about:blank')
    expect(refused).toHaveBeenCalledWith(refusal)
  })

  it('goes to the workflow in this tab when the browser opens no new one', async () => {
    const { link, order } = setUp(true, async () => {}, null)
    await link.follow(click(), URL_OF_WORKFLOW)
    expect(order).toEqual(['tab', 'ticket', `assign ${location.origin}${URL_OF_WORKFLOW}`])
  })
})
