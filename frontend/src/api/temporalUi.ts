// The Temporal Web UI behind the gateway opens with a ticket: a page the
// browser opens carries no bearer, so the console first asks the gateway,
// with its session, to set a cookie that admits this browser to /temporal/
// for a few minutes.

import { authorizedRequest, defaultFetch, failure, type Fetch } from '@/api/raw'

/** Has the gateway set the ticket; throws its refusal (401, 403) as an ApiError. */
export async function requestTemporalUiTicket(fetchImpl: Fetch = defaultFetch): Promise<void> {
  const response = await fetchImpl(authorizedRequest('/api/v1/auth/temporal-ui', { method: 'POST' }))
  if (!response.ok) throw await failure(response)
}
