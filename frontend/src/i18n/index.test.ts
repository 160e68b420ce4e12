import { describe, expect, it } from 'vitest'
import { profileLocale } from '.'

describe('profileLocale', () => {
  it('takes the profile’s language, else the account’s, and only a language the console has', () => {
    expect(profileLocale({ profile: { language: 'en' }, user: { language: 'ru' } })).toBe('en')
    expect(profileLocale({ profile: { language: '' }, user: { language: 'en' } })).toBe('en')
    expect(profileLocale({ profile: { language: 'de' } })).toBeUndefined()
    expect(profileLocale(null)).toBeUndefined()
  })
})
