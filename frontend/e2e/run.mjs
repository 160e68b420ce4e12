// Browser tests of the console against a running stack.
//
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_ADMIN_LOGIN=admin E2E_ADMIN_PASSWORD=… node e2e/run.mjs
//
// Drives Debian's Chromium through playwright-core: signs in as the admin,
// registers a customer with two phones, sees a second customer refused at
// the phone field with a link to the first, walks the main screens, and
// checks that a viewer is shown no way to change anything. Screenshots of
// every main screen go to e2e/screenshots/ (not committed).

import assert from 'node:assert/strict'
import { randomInt, randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
const ADMIN_LOGIN = process.env.E2E_ADMIN_LOGIN ?? 'admin'
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? ''
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium'
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url))
const TIMEOUT = 15_000

if (!ADMIN_PASSWORD) {
  console.error('Set E2E_ADMIN_PASSWORD (and E2E_ADMIN_LOGIN, E2E_BASE_URL if they differ from admin and http://127.0.0.1:8080).')
  process.exit(2)
}

// --- the REST API, for what the test sets up -------------------------------

/**
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, body?: unknown }} [opts]
 * @returns {Promise<{ status: number, data: any }>}
 */
async function call(method, path, { token, body } = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = text
  }
  return { status: res.status, data }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ token?: string, body?: unknown }} [opts]
 * @returns {Promise<any>}
 */
async function must(method, path, opts) {
  const r = await call(method, path, opts)
  if (r.status !== 200) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.data)}`)
  return r.data
}

// --- test data unique to this run -------------------------------------------

const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
const seven = () => String(randomInt(0, 10_000_000)).padStart(7, '0')
/** A Moscow mobile number: national part "916xxxxxxx". */
const mobile = (/** @type {string} */ op) => `${op}${seven()}`
const phoneA = mobile('916')
const phoneB = mobile('926')
const phoneC = mobile('903')
const asLocal = (/** @type {string} */ n) => `8 ${n.slice(0, 3)} ${n.slice(3, 6)}-${n.slice(6, 8)}-${n.slice(8)}`
const asIntl = (/** @type {string} */ n) => `+7 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6, 8)}-${n.slice(8)}`
const customerName = `Е2Е Иван Петров ${run}`
const viewer = { login: `viewer-${run}`, password: `Pw-${randomBytes(9).toString('base64url')}` }

// --- the browser ------------------------------------------------------------

/** @typedef {import('playwright-core').Page} Page */

/** @type {{ name: string, ms: number }[]} */
const steps = []
/** @type {string[]} */
const pageErrors = []
let shot = 0

/** @param {Page} page @param {string} name */
async function screenshot(page, name) {
  shot += 1
  const file = `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`
  await page.screenshot({ path: file, fullPage: true })
  console.log(`    screenshot ${file.slice(SHOTS.length)}`)
}

/** @param {string} name @param {() => Promise<void>} fn */
async function step(name, fn) {
  const started = Date.now()
  process.stdout.write(`• ${name}\n`)
  await fn()
  steps.push({ name, ms: Date.now() - started })
}

/** @param {Page} page @param {string} who */
function watch(page, who) {
  page.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${who} console: ${m.text()}`)
  })
}

const byTest = (/** @type {Page} */ page, /** @type {string} */ id) => page.locator(`[data-testid="${id}"]`)

/** @param {Page} page @param {string} login @param {string} password */
async function signIn(page, login, password) {
  await page.goto(`${BASE}/login`)
  await page.locator('#login').fill(login)
  await page.locator('#password').fill(password)
  await page.locator('#password').press('Enter')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: TIMEOUT })
  await byTest(page, 'app-nav').first().waitFor({ state: 'attached', timeout: TIMEOUT })
}

/** @param {Page} page */
async function settle(page) {
  await page.waitForLoadState('networkidle', { timeout: TIMEOUT }).catch(() => {})
}

async function main() {
  await rm(SHOTS, { recursive: true, force: true })
  await mkdir(SHOTS, { recursive: true })

  const health = await fetch(`${BASE}/healthz`).catch(() => null)
  assert.ok(health?.ok, `the stack does not answer at ${BASE}/healthz`)

  const session = await must('POST', '/api/v1/auth/login', { body: { login: ADMIN_LOGIN, password: ADMIN_PASSWORD } })
  const adminToken = session.accessToken
  await must('POST', '/api/v1/users', {
    token: adminToken,
    body: { login: viewer.login, displayName: `Наблюдатель ${run}`, password: viewer.password, roles: ['viewer'], active: true },
  })

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  /** @type {Page | null} */
  let lastPage = null
  try {
    const admin = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' })
    admin.setDefaultTimeout(TIMEOUT)
    const page = await admin.newPage()
    lastPage = page
    watch(page, 'admin')

    await step('a visitor is sent to the login screen', async () => {
      await page.goto(`${BASE}/customers`)
      await page.waitForURL(/\/login\?redirect=/)
      await screenshot(page, 'login')
    })

    await step('the admin signs in and lands where they were going', async () => {
      await page.locator('#login').fill(ADMIN_LOGIN)
      await page.locator('#password').fill(ADMIN_PASSWORD)
      await byTest(page, 'login-submit').click()
      await page.waitForURL(/\/customers$/)
      await byTest(page, 'customers-table').waitFor()
      await settle(page)
      await screenshot(page, 'customers')
    })

    await step('home shows a greeting and shortcuts', async () => {
      await byTest(page, 'nav-home').click()
      await byTest(page, 'greeting').waitFor()
      assert.ok(await byTest(page, 'shortcut-new-customer').isVisible(), 'the admin sees the new-customer shortcut')
      await screenshot(page, 'home')
    })

    let customerId = ''
    await step('a customer is registered with two phones', async () => {
      await byTest(page, 'shortcut-new-customer').click()
      await page.waitForURL(/\/customers\/new$/)
      await byTest(page, 'customer-name').fill(customerName)
      await byTest(page, 'customer-email').fill(`e2e-${run}@example.com`)
      await byTest(page, 'customer-address').fill('Москва, ул. Тверская, д. 1, кв. 2')
      await byTest(page, 'phone-number').nth(0).fill(asLocal(phoneA))
      await byTest(page, 'phone-label').nth(0).fill('мобильный')
      await byTest(page, 'phone-add').click()
      // The new row takes the cursor: type straight into it.
      await page.keyboard.type(asIntl(phoneB))
      await byTest(page, 'phone-label').nth(1).fill('домашний')
      await screenshot(page, 'customer-new')
      await byTest(page, 'phone-label').nth(1).press('Enter')
      await page.waitForURL(/\/customers\/\d+$/)
      customerId = page.url().split('/').pop() ?? ''
      await byTest(page, 'phones-panel').waitFor()
      const phones = await byTest(page, 'phone-item').allInnerTexts()
      assert.equal(phones.length, 2, `two phones shown, got ${JSON.stringify(phones)}`)
      assert.ok(phones[0].includes(`+7 ${phoneA.slice(0, 3)} ${phoneA.slice(3, 6)}`), `the first phone is normalised: ${phones[0]}`)
      await settle(page)
      await screenshot(page, 'customer-detail')
    })

    await step('a number another customer has is refused at its field, with a link to that customer', async () => {
      await page.goto(`${BASE}/customers/new`)
      await byTest(page, 'customer-name').fill(`Е2Е Дубликат ${run}`)
      await byTest(page, 'phone-number').nth(0).fill(asLocal(phoneC))
      await byTest(page, 'phone-add').click()
      await byTest(page, 'phone-number').nth(1).fill(`+7${phoneB}`)
      await byTest(page, 'customer-submit').click()
      const error = byTest(page, 'phone-row').nth(1).locator('[data-testid="field-error"]')
      await error.waitFor()
      assert.equal(await byTest(page, 'phone-row').nth(0).locator('[data-testid="field-error"]').count(), 0, 'the free number has no error')
      const href = await error.locator('[data-testid="holder-link"]').getAttribute('href')
      assert.equal(href, `/customers/${customerId}`, 'the error links to the customer who has the number')
      assert.match(page.url(), /\/customers\/new$/, 'nothing was created')
      const focused = await page.locator(':focus').getAttribute('data-testid')
      assert.equal(focused, 'phone-number', 'the cursor is on the refused number')
      await screenshot(page, 'customer-duplicate-phone')
      const found = await must('GET', `/api/v1/customers?query=${encodeURIComponent(phoneC)}`, { token: adminToken })
      assert.equal((found.customers ?? []).length, 0, 'the refused customer was not half-written')
    })

    await step('the customer is found by a part of the phone as the operator types', async () => {
      await byTest(page, 'nav-customers').click()
      await byTest(page, 'customer-search').fill(phoneA.slice(0, 7))
      await page.waitForURL(new RegExp(`q=${phoneA.slice(0, 7)}`))
      await byTest(page, 'customer-link').filter({ hasText: customerName }).waitFor()
      await screenshot(page, 'customer-search')
    })

    await step('the settings screens open', async () => {
      for (const [nav, ready, name] of [
        ['nav-users', 'users-table', 'settings-users'],
        ['nav-groups', 'groups-list', 'settings-groups'],
        ['nav-roles', 'roles-matrix', 'settings-roles'],
        ['nav-audit', 'audit-table', 'settings-audit'],
      ]) {
        await byTest(page, nav).click()
        await byTest(page, ready).waitFor()
        await settle(page)
        if (name === 'settings-groups' && (await byTest(page, 'group-item').count()) > 0) {
          await byTest(page, 'group-item').first().click()
          await byTest(page, 'members-table').waitFor()
          await settle(page)
        }
        await screenshot(page, name)
      }
      const viewerRow = page.locator('[data-testid="users-table"] tr', { hasText: viewer.login })
      await byTest(page, 'nav-users').click()
      await viewerRow.waitFor()
    })

    await step('the profile shows the Telegram link state', async () => {
      await byTest(page, 'user-menu').click()
      await page.getByRole('menuitem').first().click()
      await page.waitForURL(/\/profile$/)
      await byTest(page, 'telegram-panel').waitFor()
      await screenshot(page, 'profile')
      await byTest(page, 'telegram-link').click()
      await Promise.race([byTest(page, 'telegram-code').waitFor(), byTest(page, 'load-error').waitFor()])
      await screenshot(page, 'profile-telegram-code')
    })

    await step('at tablet width the menu folds into a drawer', async () => {
      await page.setViewportSize({ width: 768, height: 1024 })
      await page.goto(`${BASE}/customers/${customerId}`)
      await byTest(page, 'phones-panel').waitFor()
      assert.equal(await page.locator('aside [data-testid="app-nav"]').isVisible(), false, 'the sidebar is folded')
      await screenshot(page, 'tablet-customer')
      await byTest(page, 'nav-toggle').click()
      await page.locator('.p-drawer [data-testid="nav-customers"]').waitFor()
      await screenshot(page, 'tablet-menu')
      await page.keyboard.press('Escape')
    })

    await step('the admin signs out', async () => {
      await page.setViewportSize({ width: 1280, height: 800 })
      await byTest(page, 'user-menu').click()
      await page.getByRole('menuitem').last().click()
      await page.waitForURL(/\/login/)
    })
    await admin.close()

    await viewerSteps(browser, customerId)
    assert.deepEqual(pageErrors, [], 'no errors in the browser console')
  } catch (e) {
    if (lastPage && !lastPage.isClosed()) await lastPage.screenshot({ path: `${SHOTS}failure.png`, fullPage: true }).catch(() => {})
    throw e
  } finally {
    await browser.close()
  }

  /**
   * @param {import('playwright-core').Browser} browser
   * @param {string} customerId
   */
  async function viewerSteps(browser, customerId) {
    const viewerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' })
    viewerCtx.setDefaultTimeout(TIMEOUT)
    const page = await viewerCtx.newPage()
    lastPage = page
    watch(page, 'viewer')

    await step('a viewer sees customers but no way to change them', async () => {
      await signIn(page, viewer.login, viewer.password)
      assert.equal(await byTest(page, 'nav-users').count(), 0, 'no Users entry for a viewer')
      assert.equal(await byTest(page, 'nav-audit').count(), 0, 'no Audit entry for a viewer')
      assert.equal(await byTest(page, 'shortcut-new-customer').count(), 0, 'no new-customer shortcut')

      await byTest(page, 'nav-customers').click()
      await byTest(page, 'customers-table').waitFor()
      await settle(page)
      assert.equal(await byTest(page, 'customer-new').count(), 0, 'no New customer button')

      await page.goto(`${BASE}/customers/${customerId}`)
      await byTest(page, 'phones-panel').waitFor()
      await settle(page)
      for (const id of ['customer-edit', 'phone-remove', 'phone-add-form', 'new-phone-number']) {
        assert.equal(await byTest(page, id).count(), 0, `a viewer has no ${id}`)
      }
      await screenshot(page, 'viewer-customer')

      await page.goto(`${BASE}/customers/new`)
      await page.waitForURL(/\/forbidden/)
      await screenshot(page, 'viewer-forbidden')

      await byTest(page, 'nav-groups').click()
      await byTest(page, 'groups-list').waitFor()
      if ((await byTest(page, 'group-item').count()) > 0) {
        await byTest(page, 'group-item').first().click()
        await byTest(page, 'members-table').waitFor()
      }
      await settle(page)
      for (const id of ['group-new', 'member-add', 'member-remove']) {
        assert.equal(await byTest(page, id).count(), 0, `a viewer has no ${id}`)
      }
      await screenshot(page, 'viewer-groups')
    })

    await step('the server refuses a viewer’s write too', async () => {
      const v = await must('POST', '/api/v1/auth/login', { body: { login: viewer.login, password: viewer.password } })
      const r = await call('POST', '/api/v1/customers', { token: v.accessToken, body: { name: 'x', phones: [{ number: asLocal(mobile('915')) }] } })
      assert.equal(r.status, 403, `a viewer's create is refused with 403, got ${r.status}`)
    })

    await viewerCtx.close()
  }
}

const started = Date.now()
main().then(
  () => {
    console.log(`\nall ${steps.length} steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`)
  },
  (e) => {
    console.error(`\nFAILED: ${e instanceof Error ? e.message : e}`)
    if (pageErrors.length) console.error(`browser errors:\n  ${pageErrors.join('\n  ')}`)
    console.error(`screenshots (failure.png shows the last page) in ${SHOTS}`)
    process.exit(1)
  },
)
