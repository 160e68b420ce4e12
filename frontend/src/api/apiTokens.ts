// Machines' access: API tokens, each a service account holding roles.
// Plain functions: only the tokens screen reads them.

import { api, ok, type ApiToken } from '@/api/client'

export interface NewApiToken {
  name: string
  roles: string[]
  expiresInDays: number
}

/** The tokens, newest first, revoked and expired ones too. */
export async function listApiTokens(): Promise<ApiToken[]> {
  return (await ok(api.GET('/api/v1/apiTokens'))).apiTokens ?? []
}

/** Makes a token; the answer holds the token itself, shown this once. */
export async function createApiToken(t: NewApiToken): Promise<{ apiToken: ApiToken; token: string }> {
  const res = await ok(api.POST('/api/v1/apiTokens', { body: t }))
  return { apiToken: res.apiToken ?? {}, token: res.token ?? '' }
}

export async function revokeApiToken(id: string): Promise<ApiToken> {
  return ok(api.POST('/api/v1/apiTokens/{id}:revoke', { params: { path: { id } }, body: {} }))
}

export type ApiTokenState = 'active' | 'expired' | 'revoked'

/** Whether a token still opens the API at now (ms since the epoch). */
export function apiTokenState(t: ApiToken, now: number): ApiTokenState {
  if (t.revokeTime) return 'revoked'
  if (t.expireTime && Date.parse(t.expireTime) <= now) return 'expired'
  return 'active'
}
