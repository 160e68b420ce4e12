// Russian and English. The language is chosen in the header; before login it
// is remembered in this browser, after login in the user's profile.
//
// Russian, the deployment's default, ships in the entry; English is fetched
// the first time it is chosen (loadLocale), so the first screen carries one
// language's messages, not both.

import { compile, type MessageCompiler } from '@intlify/core-base'
import { createI18n } from 'vue-i18n'
import type en from './en'
import ru from './ru'

export const LOCALES = ['ru', 'en'] as const
export type Locale = (typeof LOCALES)[number]

const STORAGE_KEY = 'crm.locale'

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v)
}

/** The language to start with: the one chosen here before, else the browser's. */
export function initialLocale(): Locale {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY)
    if (isLocale(saved)) return saved
  } catch {
    // storage may be disabled
  }
  const nav = globalThis.navigator?.language?.slice(0, 2).toLowerCase()
  return nav === 'en' ? 'en' : 'ru'
}

/** The language a signed-in user's profile names (/auth/me), if it names one. */
export function profileLocale(me: { profile?: { language?: string }; user?: { language?: string } } | null | undefined): Locale | undefined {
  const saved = me?.profile?.language || me?.user?.language
  return isLocale(saved) ? saved : undefined
}

export function rememberLocale(locale: Locale): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale)
  } catch {
    // storage may be disabled
  }
}

/** Russian plural forms: 1 клиент, 2 клиента, 5 клиентов (choice 0 is "none"). */
function russianPlural(choice: number, choicesLength: number): number {
  const n = Math.abs(choice)
  if (choicesLength === 4 && n === 0) return 0
  const offset = choicesLength === 4 ? 1 : 0
  const mod10 = n % 10
  const mod100 = n % 100
  if (mod10 === 1 && mod100 !== 11) return offset
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 10 || mod100 >= 20)) return offset + 1
  return offset + 2
}

export type MessageSchema = typeof en

/** Where each language's messages come from. */
const loaders: Record<Locale, () => Promise<MessageSchema>> = {
  ru: async () => ru,
  en: async () => (await import('./en')).default,
}

/** Characters that make a message more than its own text: a placeholder, a plural, a link. */
const SYNTAX = /[{}|@]/

/**
 * vue-i18n's compiler, but a message without syntax (most of them: labels,
 * titles) is its own text and is not parsed: parsing every message a screen
 * shows the first time it shows it was a tenth of the home's first render on
 * a phone. (vue-i18n calls the option experimental and says so once in
 * development; the test that renders every message with both compilers
 * guards an upgrade.)
 */
export const messageCompiler: MessageCompiler = (message, context) => {
  if (typeof message === 'string' && !SYNTAX.test(message)) return () => message
  return compile(message, context)
}

export function makeI18n(locale: Locale = initialLocale(), compiler: MessageCompiler = messageCompiler) {
  return createI18n<[MessageSchema], Locale, false>({
    legacy: false,
    locale,
    // Always at hand; the type makes both languages carry every key anyway.
    fallbackLocale: 'ru',
    messages: { ru } as Record<Locale, MessageSchema>,
    pluralRules: { ru: russianPlural },
    missingWarn: false,
    fallbackWarn: false,
    messageCompiler: compiler,
  })
}

export const i18n = makeI18n()

/** Whether the language's messages are here already. */
export function isLoaded(locale: Locale): boolean {
  return i18n.global.availableLocales.includes(locale)
}

/** Fetches the language's messages if they are not here yet; switch to it after this. */
export async function loadLocale(locale: Locale): Promise<void> {
  if (!isLoaded(locale)) i18n.global.setLocaleMessage(locale, await loaders[locale]())
}
