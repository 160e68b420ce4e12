// A task's link to its workflow in the Temporal Web UI. When the gateway
// serves the UI, following the link takes a ticket first: the new tab is
// opened at once (a browser lets a click open a tab, not a promise that
// settles later) and sent to the workflow once the ticket is set, or closed
// when it is refused. The UI a developer's stack runs by itself needs none,
// and its link is followed as it is.

import { asApiError, type ApiError } from '@/api/errors'
import { requestTemporalUiTicket } from '@/api/temporalUi'
import { useConsoleConfigStore } from '@/stores/consoleConfig'

export interface WorkflowLinkDeps {
  ticket: () => Promise<void>
  /** Opens an empty tab to send later; null when the browser refuses. */
  openTab: () => Window | null
  /** Goes to url in this tab (no new one could be opened). */
  assign: (url: string) => void
}

const browser: WorkflowLinkDeps = {
  ticket: () => requestTemporalUiTicket(),
  openTab: () => globalThis.open('', '_blank'),
  assign: (url) => globalThis.location.assign(url),
}

export function useWorkflowLink(onRefused: (e: ApiError) => void, deps: WorkflowLinkDeps = browser) {
  const config = useConsoleConfigStore()

  /** The link's click handler: url is the link's own href. */
  async function follow(event: MouseEvent, url: string): Promise<void> {
    if (!config.temporalUiTicket) return
    event.preventDefault()
    const tab = deps.openTab()
    try {
      await deps.ticket()
    } catch (e) {
      tab?.close()
      onRefused(asApiError(e))
      return
    }
    const target = new URL(url, globalThis.location.origin).href
    if (!tab) {
      deps.assign(target)
      return
    }
    // as rel="noopener" would have it
    tab.opener = null
    tab.location.href = target
  }

  return { follow }
}
