// What every browser test shares: the stack's address, a REST client signed
// in as the admin, the accounts the suite makes for itself, and pages signed
// in as the admin, an operator and a viewer.
//
// The stack is one per run (deploy/scripts/e2e.sh), so the suite runs in one
// worker; the admin's page lives as long as the worker, so the scenario's
// steps follow one another on it as a person's clicks would.

import { randomBytes, randomInt } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import AxeBuilder from '@axe-core/playwright'
import { test as base, expect, type Browser, type Locator, type Page } from '@playwright/test'

export { expect }

import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, CONTEXT, TIMEOUT } from './env'

export { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, TIMEOUT }
export const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url))

// --- the REST API, for what the tests set up and check ----------------------

export interface Answer {
  status: number
  data: any
}

export async function call(method: string, path: string, { token, body }: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let data: any
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = text
  }
  return { status: res.status, data }
}

/** Calls the API and insists on 200. */
export async function must(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<any> {
  const r = await call(method, path, opts)
  if (r.status !== 200) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.data)}`)
  return r.data
}

export async function signInByApi(login: string, password: string): Promise<string> {
  const session = await must('POST', '/api/v1/auth/login', { body: { login, password } })
  return session.accessToken as string
}

// --- data unique to this run --------------------------------------------------

const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const seven = () => String(randomInt(0, 10_000_000)).padStart(7, '0')

/** Test data no other run shares: names carry the run's mark, phones are random. */
export const data = {
  run,
  /** A Moscow mobile number: national part "916xxxxxxx". */
  mobile: (op: string) => `${op}${seven()}`,
  asLocal: (n: string) => `8 ${n.slice(0, 3)} ${n.slice(3, 6)}-${n.slice(6, 8)}-${n.slice(8)}`,
  asIntl: (n: string) => `+7 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6, 8)}-${n.slice(8)}`,
}

export interface Account {
  login: string
  password: string
}

// --- page helpers ---------------------------------------------------------------

export const byTest = (page: Page | Locator, id: string) => page.locator(`[data-testid="${id}"]`)

/** Waits (bounded) until the page has stopped loading; pages that poll never go quiet. */
export async function settle(page: Page) {
  await page.waitForLoadState('networkidle', { timeout: TIMEOUT }).catch(() => {})
}

let shot = 0
/** A full-page screenshot into e2e/screenshots/, numbered in the order taken. */
export async function screenshot(page: Page, name: string) {
  shot += 1
  mkdirSync(SHOTS, { recursive: true })
  await settle(page)
  // From the top, so the sticky header and sidebar sit where a person sees them.
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true })
}

/** Signs in through the form and waits for the signed-in shell. */
export async function signIn(page: Page, login: string, password: string) {
  await page.goto('/login')
  await page.locator('#login').fill(login)
  await page.locator('#password').fill(password)
  await page.locator('#password').press('Enter')
  await expect(page).not.toHaveURL(/\/login/)
  // The shell's header (the sidebar's menu is drawn only on a wide screen).
  await expect(byTest(page, 'user-menu')).toBeVisible()
}

/** Opens path on the admin's shared page, signing in again when an earlier file signed out. */
export async function openSignedIn(page: Page, path: string, ready: string) {
  await page.goto(path)
  const login = page.locator('#login')
  await expect(byTest(page, ready).or(login).first()).toBeVisible()
  if (await login.isVisible()) {
    await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD)
    await page.goto(path)
  }
  await expect(byTest(page, ready).first()).toBeVisible()
}

/** Picks an option of a PrimeVue Select by its visible text, and waits for its list to close. */
export async function choose(page: Page, select: string | Locator, option: string | RegExp) {
  await (typeof select === 'string' ? byTest(page, select) : select).click()
  const list = page.locator('.p-select-overlay')
  await list.getByRole('option', { name: option }).first().click()
  await expect(list).toHaveCount(0)
}

/** Completes the task's current process from its dialog, with a comment. */
export async function confirmCommand(page: Page, comment: string) {
  const dialog = byTest(page, 'task-dialog-complete')
  await expect(dialog).toBeVisible()
  await byTest(dialog, 'task-command-text').fill(comment)
  await byTest(dialog, 'task-command-submit').click()
  await expect(dialog).toHaveCount(0)
}

export interface AxeFinding {
  page: string
  id: string
  impact: string
  nodes: number
  help: string
  targets: string[]
}

/** What WCAG 2.1 AA allows none of. */
export const BLOCKING = ['critical', 'serious']

/** Runs axe-core over the page as it stands; the findings are attached to the test's report. */
export async function audit(page: Page, name: string): Promise<AxeFinding[]> {
  await settle(page)
  const { violations } = await new AxeBuilder({ page }).analyze()
  const found = violations.map((v) => ({
    page: name,
    id: v.id,
    impact: v.impact ?? 'unknown',
    nodes: v.nodes.length,
    help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }))
  await test.info().attach(`axe-${name}.json`, { body: JSON.stringify(found, null, 2), contentType: 'application/json' })
  return found
}

// --- fixtures ---------------------------------------------------------------------

interface WorkerFixtures {
  /** The admin's REST token. */
  adminToken: string
  /** A viewer made for this run through the API. */
  viewerAccount: Account
  /** An operator made for this run through the API. */
  operatorAccount: Account
  /** The admin, signed in through the form, on one page for the whole run. */
  adminPage: Page
  /** What the browser reported as errors, page by page, since the last test looked. */
  browserErrors: string[]
}

interface TestFixtures {
  /** A viewer, signed in through the form on a fresh page. */
  viewerPage: Page
  /** An operator, signed in through the form on a fresh page. */
  operatorPage: Page
  /** Fails the test that let an error reach the browser's console. */
  noBrowserErrors: void
}

async function makeUser(token: string, role: string, name: string): Promise<Account> {
  const account = { login: `${role}-${run}`, password: `Pw-${randomBytes(9).toString('base64url')}` }
  await must('POST', '/api/v1/users', {
    token,
    body: { login: account.login, displayName: `${name} ${run}`, password: account.password, roles: [role], active: true },
  })
  return account
}

function watch(page: Page, who: string, errors: string[]) {
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`${who} console: ${m.text()}`)
  })
}

async function newPage(browser: Browser, who: string, errors: string[], viewport = CONTEXT.viewport) {
  const context = await browser.newContext({ ...CONTEXT, viewport, baseURL: BASE })
  context.setDefaultTimeout(TIMEOUT)
  const page = await context.newPage()
  watch(page, who, errors)
  return page
}

/**
 * A fresh page signed in through the form as account, its errors watched
 * like the fixtures' pages; viewport for a phone or a tablet. The caller
 * closes its context.
 */
export async function signedInPage(browser: Browser, errors: string[], who: string, account: Account, viewport = CONTEXT.viewport): Promise<Page> {
  const page = await newPage(browser, who, errors, viewport)
  await signIn(page, account.login, account.password)
  return page
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  adminToken: [
    async ({}, use) => {
      if (!ADMIN_PASSWORD) throw new Error('Set E2E_ADMIN_PASSWORD (and E2E_ADMIN_LOGIN, E2E_BASE_URL if they differ from admin and http://127.0.0.1:8080).')
      const health = await fetch(`${BASE}/healthz`).catch(() => null)
      if (!health?.ok) throw new Error(`the stack does not answer at ${BASE}/healthz`)
      await use(await signInByApi(ADMIN_LOGIN, ADMIN_PASSWORD))
    },
    { scope: 'worker' },
  ],
  viewerAccount: [async ({ adminToken }, use) => use(await makeUser(adminToken, 'viewer', 'Наблюдатель')), { scope: 'worker' }],
  operatorAccount: [async ({ adminToken }, use) => use(await makeUser(adminToken, 'operator', 'Оператор')), { scope: 'worker' }],
  browserErrors: [async ({}, use) => use([]), { scope: 'worker' }],
  adminPage: [
    async ({ browser, adminToken: _, browserErrors }, use) => {
      const page = await newPage(browser, 'admin', browserErrors)
      await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD)
      await use(page)
      await page.context().close()
    },
    { scope: 'worker' },
  ],
  viewerPage: async ({ browser, viewerAccount, browserErrors }, use) => {
    const page = await newPage(browser, 'viewer', browserErrors)
    await signIn(page, viewerAccount.login, viewerAccount.password)
    await use(page)
    await page.context().close()
  },
  operatorPage: async ({ browser, operatorAccount, browserErrors }, use) => {
    const page = await newPage(browser, 'operator', browserErrors)
    await signIn(page, operatorAccount.login, operatorAccount.password)
    await use(page)
    await page.context().close()
  },
  page: async ({ page, browserErrors }, use) => {
    watch(page, 'visitor', browserErrors)
    await use(page)
  },
  noBrowserErrors: [
    async ({ browserErrors }, use) => {
      browserErrors.length = 0
      await use()
      const seen = browserErrors.splice(0)
      expect(seen, 'no errors in the browser console').toEqual([])
    },
    { auto: true },
  ],
})
