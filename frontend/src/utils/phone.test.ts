import { describe, expect, it } from 'vitest'
import { formatPhone, looksLikePhone, normalizePhone } from './phone'

describe('normalizePhone', () => {
  it.each([
    ['+79123456789', '+79123456789'],
    ['8 912 345-67-89', '+79123456789'],
    ['+7 (912) 345-67-89', '+79123456789'],
    ['79123456789', '+79123456789'],
    ['9123456789', '+79123456789'],
    ['+49 30 1234567', '+49301234567'],
  ])('reads %s as %s', (raw, want) => {
    expect(normalizePhone(raw)).toBe(want)
  })

  it.each(['', '   ', '12345', 'call me', '8912345678901', '+7912abc4567', '+1234567'])('refuses %j', (raw) => {
    expect(normalizePhone(raw)).toBeNull()
  })
})

describe('looksLikePhone', () => {
  it('takes digit queries of three or more digits as phones', () => {
    expect(looksLikePhone('912')).toBe(true)
    expect(looksLikePhone('+7 912')).toBe(true)
    expect(looksLikePhone('91')).toBe(false)
    expect(looksLikePhone('Ivanov')).toBe(false)
    expect(looksLikePhone('C-000123')).toBe(false)
  })
})

describe('formatPhone', () => {
  it('groups Russian numbers and leaves others alone', () => {
    expect(formatPhone('+79123456789')).toBe('+7 912 345-67-89')
    expect(formatPhone('+49301234567')).toBe('+49301234567')
    expect(formatPhone(undefined)).toBe('')
  })
})
