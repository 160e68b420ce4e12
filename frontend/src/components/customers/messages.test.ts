import { describe, expect, it } from 'vitest'
import { i18n } from '@/i18n'
import { heldUntil, MILESTONES, milestoneKey, reasonKey, showsReason, stateKey, stateSeverity, taskOf } from './messages'

const t = (k: string) => i18n.global.t(k)

describe('a customer message’s state', () => {
  it.each([
    ['delivered', 'success', 'Delivered'],
    ['sent', 'success', 'Sent'],
    ['pending', 'secondary', 'Waiting'],
    ['sending', 'secondary', 'Sending'],
    ['skipped', 'warn', 'Skipped'],
    ['undelivered', 'danger', 'Not delivered'],
    ['failed', 'danger', 'Failed'],
    ['something-new', 'secondary', 'Unknown'],
    [undefined, 'secondary', 'Unknown'],
  ])('%s reads as a %s tag saying “%s”', (state, severity, words) => {
    expect(stateSeverity(state)).toBe(severity)
    expect(t(stateKey(state))).toBe(words)
  })

  it('is held until the next attempt only while waiting for the end of quiet hours', () => {
    const at = '2026-12-03T06:00:00Z'
    expect(heldUntil({ state: 'pending', reason: 'quiet hours', nextAttemptTime: at })).toBe(at)
    expect(heldUntil({ state: 'pending', reason: 'provider busy', nextAttemptTime: at })).toBe('')
    expect(heldUntil({ state: 'pending', reason: 'quiet hours' })).toBe('')
    expect(heldUntil({ state: 'sent', reason: 'quiet hours', nextAttemptTime: at })).toBe('')
  })

  it('shows the reason of a refusal, not of a hold or a success', () => {
    expect(showsReason({ state: 'skipped', reason: 'opted out of SMS' })).toBe(true)
    expect(showsReason({ state: 'failed', reason: '207 no route' })).toBe(true)
    expect(showsReason({ state: 'undelivered', reason: '104' })).toBe(true)
    expect(showsReason({ state: 'pending', reason: 'quiet hours' })).toBe(false)
    expect(showsReason({ state: 'failed' })).toBe(false)
  })

  it('links a task only when it names one', () => {
    expect(taskOf({ taskId: '12' })).toBe('12')
    expect(taskOf({ taskId: '0' })).toBe('')
    expect(taskOf({})).toBe('')
  })
})

describe('a milestone in words', () => {
  it('has words of its own in both languages for every milestone', () => {
    for (const m of MILESTONES) {
      for (const locale of ['en', 'ru'] as const) {
        expect(i18n.global.te(milestoneKey(m), locale), `${m} in ${locale}`).toBe(true)
      }
      expect(milestoneKey(m)).not.toBe(milestoneKey('unknown'))
    }
  })

  it('says what each milestone told', () => {
    expect(t(milestoneKey('visit_on_the_way'))).toBe('Technician on the way')
    expect(t(milestoneKey('staff_comment'))).toBe('Comment from staff')
    expect(t(milestoneKey('made_up'))).toBe('Message')
  })
})

describe('a reason in the reader’s words', () => {
  it('words the notifier’s own reasons in both languages and leaves a provider’s as given', () => {
    for (const reason of ['the customer opted out of this channel', 'no SMS provider configured', 'the user blocked the bot']) {
      const key = reasonKey(reason)
      expect(key).not.toBe('')
      for (const l of ['ru', 'en'] as const) {
        expect(i18n.global.te(key, l)).toBe(true)
      }
    }
    expect(i18n.global.t(reasonKey('no SMS provider configured'), {}, { locale: 'ru' })).toBe('SMS-провайдер не настроен')
    expect(reasonKey('sms.ru refused (code 207): Нельзя отправить на этот номер')).toBe('')
  })
})
