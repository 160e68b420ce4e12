// The first screen: what index.html loads is small, precompressed and cached
// for good (PERFORMANCE.md, P7).

import { CONTEXT } from './env'
import { ADMIN_LOGIN, ADMIN_PASSWORD, BASE, byTest, expect, must, test } from './fixtures'

/** The most the first screen may download of JavaScript and CSS, compressed. */
const ENTRY_BUDGET = 150 * 1024

/**
 * The most scripts and stylesheets sign-in or the signed-in home may fetch.
 * Over plain HTTP/1.1 a browser fetches six at a time, one round trip each;
 * left to itself the bundler cut the home into 44 files (build/firstScreens.ts).
 */
const FIRST_SCREEN_FILES = 12

test('the first screen loads a small entry, precompressed and cached for good', async () => {
  const index = await fetch(`${BASE}/login`)
  expect(index.headers.get('cache-control'), 'index.html is revalidated').toBe('no-cache')
  const html = await index.text()
  const entry = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
  expect(
    entry.some((f) => f.endsWith('.js')),
    `index.html names its entry: ${html}`,
  ).toBe(true)
  let total = 0
  for (const file of entry) {
    const res = await fetch(`${BASE}${file}`, { method: 'HEAD', headers: { 'Accept-Encoding': 'br, gzip' } })
    expect(res.status, file).toBe(200)
    expect(res.headers.get('content-encoding'), `${file} is sent as brotli`).toBe('br')
    expect(res.headers.get('vary'), file).toBe('Accept-Encoding')
    expect(res.headers.get('cache-control'), file).toBe('public, max-age=31536000, immutable')
    total += Number(res.headers.get('content-length'))
  }
  // build/fontPreload.ts: the icon font is asked for with the entry, not after it.
  expect(html, 'index.html preloads the icon font').toMatch(
    /<link rel="preload" href="\/assets\/primeicons-[\w-]+\.woff2" as="font" type="font\/woff2" crossorigin="">/,
  )
  test.info().annotations.push({ type: 'entry', description: `${entry.length} files, ${(total / 1024).toFixed(1)} KiB brotli` })
  expect(total, `the entry is ${total} bytes compressed`).toBeGreaterThan(0)
  expect(total, `the entry is ${total} bytes compressed, over ${ENTRY_BUDGET}`).toBeLessThanOrEqual(ENTRY_BUDGET)
})

test('sign-in and the signed-in home each fetch a few scripts and stylesheets, their scripts marked to compile as they stream, no styles made in the browser', async ({
  browser,
}) => {
  const session = await must('POST', '/api/v1/auth/login', { body: { login: ADMIN_LOGIN, password: ADMIN_PASSWORD } })
  for (const screen of [
    { path: '/login', ready: '#login', session: null },
    { path: '/', ready: '[data-testid="greeting"]', session },
  ]) {
    // A fresh context: nothing cached, the session (if any) where the console keeps it.
    const context = await browser.newContext({ ...CONTEXT, baseURL: BASE })
    if (screen.session) {
      const kept = JSON.stringify({ accessToken: screen.session.accessToken, expiresAt: screen.session.expiresAt ?? '' })
      await context.addInitScript((v) => localStorage.setItem('crm.session', v), kept)
    }
    const page = await context.newPage()
    const files: string[] = []
    const fonts: string[] = []
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname
      if (/^\/assets\/.*\.(js|css)$/.test(path)) files.push(path)
      if (path.endsWith('.woff2')) fonts.push(path)
    })
    await page.goto(screen.path)
    await expect(page.locator(screen.ready)).toBeVisible()
    if (screen.session) {
      // The home's search box is plain elements in PrimeVue's classes: their CSS must have come too.
      await expect(byTest(page, 'home-search')).toHaveCSS('border-top-style', 'solid')
      await expect(page.locator('.home-search .p-inputicon')).toHaveCSS('position', 'absolute')
      await expect(byTest(page, 'home-search-customers')).toHaveCSS('background-color', 'rgb(37, 99, 235)')
    }
    await page.waitForLoadState('networkidle')
    // The build made PrimeVue's CSS (build/primevueTheme.ts): nothing is made in the browser.
    expect(await page.locator('style[data-primevue-style-id]').count(), `${screen.path} made no styles`).toBe(0)
    test.info().annotations.push({ type: screen.path, description: `${files.length} files` })
    // A preload made in another mode than the stylesheet's request goes unused, and the font comes twice.
    expect(fonts, `${screen.path} fetched the icon font once`).toHaveLength(1)
    expect(files.length, `${screen.path} fetched ${files.join(', ')}`).toBeLessThanOrEqual(FIRST_SCREEN_FILES)
    // build/compileHints.ts: the hint counts only on a file's first line.
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const code = await (await fetch(`${BASE}${file}`)).text()
      expect(code.split('\n', 1)[0], `${file} opens with the compile hint`).toBe('//# allFunctionsCalledOnLoad')
    }
    await context.close()
  }
})
