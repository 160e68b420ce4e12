// Outbound webhooks: other systems' subscriptions to task and contract
// events, and each one's delivery log. Plain functions: only the webhooks
// screen reads them.

import { api, ok, type Webhook, type WebhookDelivery, type WebhookDeliveryState, type WebhookEventKind } from '@/api/client'

/** The event kinds a subscription may take, in the order they are offered. */
export const WEBHOOK_EVENT_KINDS: WebhookEventKind[] = [
  'WEBHOOK_EVENT_KIND_TASK_CREATED',
  'WEBHOOK_EVENT_KIND_TASK_PROCESS_ENTERED',
  'WEBHOOK_EVENT_KIND_TASK_CLOSED',
  'WEBHOOK_EVENT_KIND_CONTRACT_STATUS_CHANGED',
]

export interface WebhookDraft {
  name: string
  url: string
  eventKinds: WebhookEventKind[]
  enabled: boolean
}

export async function listWebhooks(): Promise<Webhook[]> {
  return (await ok(api.GET('/api/v1/webhooks'))).webhooks ?? []
}

/** Subscribes; the answer holds the signing secret, shown this once. */
export async function createWebhook(d: WebhookDraft): Promise<{ webhook: Webhook; secret: string }> {
  const res = await ok(api.POST('/api/v1/webhooks', { body: { name: d.name, url: d.url, eventKinds: d.eventKinds } }))
  return { webhook: res.webhook ?? { name: '', url: '', eventKinds: [] }, secret: res.secret ?? '' }
}

export async function updateWebhook(id: string, d: WebhookDraft): Promise<Webhook> {
  return ok(api.PUT('/api/v1/webhooks/{id}', { params: { path: { id } }, body: d }))
}

export async function deleteWebhook(id: string): Promise<void> {
  await ok(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } }))
}

export interface DeliveryPage {
  deliveries: WebhookDelivery[]
  next: string
}

/** A page of a subscription's deliveries, newest first. */
export async function listDeliveries(webhookId: string, state: WebhookDeliveryState | undefined, pageToken = ''): Promise<DeliveryPage> {
  const res = await ok(
    api.GET('/api/v1/webhooks/{webhook_id}/deliveries', {
      params: { path: { webhook_id: webhookId }, query: { state, pageToken: pageToken || undefined, pageSize: 50 } },
    }),
  )
  return { deliveries: res.deliveries ?? [], next: res.nextPageToken ?? '' }
}

/** The subscription's state as its list shows it. */
export type WebhookState = 'on' | 'off' | 'failing'

export function webhookState(w: Webhook): WebhookState {
  if (w.enabled) return 'on'
  return w.disabledReason ? 'failing' : 'off'
}

/** The last part of an enum value, as the messages name it ("TASK_CLOSED" → "task_closed"). */
export function eventKindKey(k: WebhookEventKind | undefined): string {
  return (k ?? '').replace(/^WEBHOOK_EVENT_KIND_/, '').toLowerCase()
}

export function deliveryStateKey(s: WebhookDeliveryState | undefined): string {
  return (s ?? '').replace(/^WEBHOOK_DELIVERY_STATE_/, '').toLowerCase()
}
