import { compile } from '@intlify/core-base'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { makeI18n, messageCompiler, profileLocale } from '.'
import en from './en'
import ru from './ru'

describe('profileLocale', () => {
  it('takes the profile’s language, else the account’s, and only a language the console has', () => {
    expect(profileLocale({ profile: { language: 'en' }, user: { language: 'ru' } })).toBe('en')
    expect(profileLocale({ profile: { language: '' }, user: { language: 'en' } })).toBe('en')
    expect(profileLocale({ profile: { language: 'de' } })).toBeUndefined()
    expect(profileLocale(null)).toBeUndefined()
  })
})

/** Every message of a language as [key, text]. */
function leaves(messages: object, prefix = ''): [string, string][] {
  return Object.entries(messages).flatMap(([k, v]): [string, string][] => (typeof v === 'string' ? [[prefix + k, v]] : leaves(v as object, `${prefix}${k}.`)))
}

describe('messageCompiler', () => {
  it('renders every message of both languages as vue-i18n’s own compiler does', () => {
    const ours = makeI18n('ru').global
    const theirs = makeI18n('ru', compile).global
    ours.setLocaleMessage('en', en)
    theirs.setLocaleMessage('en', en)
    for (const [locale, messages] of [
      ['ru', ru],
      ['en', en],
    ] as const) {
      const all = leaves(messages)
      // Each placeholder any message names, with a value that shows where it went.
      const params = Object.fromEntries(all.flatMap(([, text]) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, `<${m[1]}>`])))
      for (const [key] of all) {
        for (const plural of [1, 3]) {
          const named = { ...params, n: plural, count: plural }
          expect(ours.t(key, named, { plural, locale }), `${locale} ${key}`).toBe(theirs.t(key, named, { plural, locale }))
        }
      }
      expect(all.length, locale).toBeGreaterThan(500)
    }
  })

  it('leaves a message with syntax to the compiler, and gives a plain one back as it is', () => {
    const i18n = createI18n({
      legacy: false,
      locale: 'ru',
      messages: { ru: { plain: 'Задачи', named: 'Привет, {name}', plural: 'нет | один | много', linked: 'Раздел: @:plain' } },
      messageCompiler,
    }).global
    expect(i18n.t('plain')).toBe('Задачи')
    expect(i18n.t('named', { name: 'Ольга' })).toBe('Привет, Ольга')
    expect(i18n.t('plural', 5)).toBe('много')
    expect(i18n.t('linked')).toBe('Раздел: Задачи')
    expect(messageCompiler('Задачи', {} as never)({} as never)).toBe('Задачи')
  })
})
