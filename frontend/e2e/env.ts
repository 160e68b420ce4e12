// Where the stack under test answers and how the browser looks, from the
// environment; shared by playwright.config.ts and the fixtures.

import type { BrowserContextOptions } from '@playwright/test'

export const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
export const ADMIN_LOGIN = process.env.E2E_ADMIN_LOGIN ?? 'admin'
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? ''
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium'

/** How long a page may take to show what a step waits for. */
export const TIMEOUT = 15_000

/** The browser every context of the suite opens: a desktop in Moscow, in Russian. */
export const CONTEXT: BrowserContextOptions = {
  viewport: { width: 1280, height: 800 },
  locale: 'ru-RU',
  timezoneId: 'Europe/Moscow',
}
