// Linking Telegram: ask for a one-time code, show it with the bot's deep
// link and how long it stays valid, and watch /auth/me until the bot has
// bound the chat (or the code ran out). Unlinking is one call.

import { computed, onScopeDispose, ref, shallowRef, watch } from 'vue'
import { api, ok, type TelegramLink } from '@/api/client'
import { asApiError, type ApiError } from '@/api/errors'
import { useAuthStore } from '@/stores/auth'
import { useCountdown } from './useCountdown'

export const LINK_POLL_MS = 4000

export function useTelegramLink(pollMs = LINK_POLL_MS) {
  const auth = useAuthStore()
  const link = shallowRef<TelegramLink | null>(null)
  const requesting = ref(false)
  const error = shallowRef<ApiError | null>(null)
  const expiresAt = computed(() => link.value?.expiresAt ?? null)
  const countdown = useCountdown(expiresAt)
  const linked = computed(() => auth.me?.telegramLinked === true)
  let poll: ReturnType<typeof setInterval> | undefined
  /** Linked already when the code was asked for (linking another chat). */
  const linkedBefore = ref(false)

  function stopPolling(): void {
    if (poll !== undefined) clearInterval(poll)
    poll = undefined
  }

  async function check(): Promise<void> {
    try {
      await auth.loadMe()
    } catch {
      // a failed check is retried on the next tick
    }
  }

  async function request(): Promise<void> {
    requesting.value = true
    error.value = null
    const wasLinked = linked.value
    try {
      link.value = await ok(api.POST('/api/v1/telegram:link', { body: {} }))
      stopPolling()
      poll = setInterval(() => void check(), pollMs)
      linkedBefore.value = wasLinked
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      requesting.value = false
    }
  }

  watch(linked, (now) => {
    if (now && link.value && !linkedBefore.value) {
      stopPolling()
      link.value = null
    }
  })
  watch(countdown.running, (running) => {
    if (!running) stopPolling()
  })

  function cancel(): void {
    stopPolling()
    link.value = null
  }

  const unlinking = ref(false)
  /** Unbinds the chat: the bot writes to it no more. */
  async function unlink(): Promise<void> {
    unlinking.value = true
    error.value = null
    try {
      await ok(api.POST('/api/v1/telegram:unlink', { body: {} }))
      cancel()
      await check()
    } catch (e) {
      error.value = asApiError(e)
    } finally {
      unlinking.value = false
    }
  }

  onScopeDispose(stopPolling, true)

  return {
    link,
    requesting,
    error,
    linked,
    secondsLeft: countdown.secondsLeft,
    expired: countdown.expired,
    active: computed(() => link.value !== null && countdown.running.value),
    unlinking,
    request,
    check,
    cancel,
    unlink,
  }
}
