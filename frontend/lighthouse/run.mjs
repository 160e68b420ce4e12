// The console's speed on a phone: Lighthouse (mobile preset, simulated
// throttling) over the sign-in page and the signed-in home, against a
// running stack.
//
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_ADMIN_PASSWORD=… node lighthouse/run.mjs
//
// `make lighthouse` starts a private stack and runs this twice: over plain
// HTTP/1.1 as `make dev` serves the console, and over HTTPS with HTTP/2 as
// a deployment does (E2E_BASE_URL https://…; NODE_EXTRA_CA_CERTS names a
// private CA for the sign-in request). Each page is
// measured LH_RUNS times (default 3) on a cold cache; the home is loaded
// signed in (the session put in localStorage as the console keeps it, the
// HTTP cache cleared). Prints one line per run and the median per page,
// writes every report under test-results/lighthouse/ (git-ignored), and
// with LH_ENFORCE=1 fails when a median misses the goals (PERFORMANCE.md, P7).

import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import lighthouse from 'lighthouse'
import puppeteer from 'puppeteer-core'

const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
const LOGIN = process.env.E2E_ADMIN_LOGIN ?? 'admin'
const PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? ''
const CHROMIUM = process.env.E2E_CHROMIUM ?? process.env.CHROME_PATH ?? '/usr/bin/chromium'
const RUNS = Number(process.env.LH_RUNS ?? 3)
const OUT = fileURLToPath(new URL('../test-results/lighthouse/', import.meta.url))
const HTTPS = BASE.startsWith('https:')
/** How the console is reached: plain HTTP/1.1 (`make dev`) or HTTPS with HTTP/2 (a deployment). */
const OVER = HTTPS ? 'HTTPS (HTTP/2)' : 'HTTP/1.1'

/** The goals: performance score, LCP and TBT in ms, CLS. */
const GOALS = { score: 90, lcp: 2500, tbt: 200, cls: 0.1 }

if (!PASSWORD) {
  console.error('Set E2E_ADMIN_PASSWORD (and E2E_BASE_URL, E2E_ADMIN_LOGIN if they differ from http://127.0.0.1:8080 and admin).')
  process.exit(2)
}

/** @returns {Promise<{ accessToken: string, expiresAt: string }>} */
async function session() {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: LOGIN, password: PASSWORD }),
  })
  if (!res.ok) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`)
  const s = /** @type {any} */ (await res.json())
  return { accessToken: s.accessToken, expiresAt: s.expiresAt ?? '' }
}

/**
 * @param {import('lighthouse').Result} lhr
 */
function figures(lhr) {
  /** @type {Record<string, any>} */
  const a = lhr.audits
  const lcpElement = a['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node?.snippet ?? ''
  /** @type {{ groupLabel: string, duration: number }[]} */
  const breakdown = a['mainthread-work-breakdown']?.details?.items ?? []
  /** @type {{ url: string, scripting: number, total: number }[]} */
  const bootup = a['bootup-time']?.details?.items ?? []
  return {
    score: Math.round((lhr.categories.performance.score ?? 0) * 100),
    fcp: a['first-contentful-paint'].numericValue ?? 0,
    lcp: a['largest-contentful-paint'].numericValue ?? 0,
    tbt: a['total-blocking-time'].numericValue ?? 0,
    cls: a['cumulative-layout-shift'].numericValue ?? 0,
    si: a['speed-index'].numericValue ?? 0,
    bytes: a['total-byte-weight'].numericValue ?? 0,
    lcpElement,
    mainThread: breakdown
      .slice(0, 4)
      .map((i) => `${i.groupLabel} ${Math.round(i.duration)}`)
      .join(', '),
    scripts: bootup
      .slice(0, 3)
      .map((i) => `${i.url.replace(BASE, '')} ${Math.round(i.total)}`)
      .join(', '),
  }
}

/** @param {ReturnType<typeof figures>} f */
const line = (f) =>
  `score ${f.score}  FCP ${(f.fcp / 1000).toFixed(1)} s  LCP ${(f.lcp / 1000).toFixed(1)} s  TBT ${Math.round(f.tbt)} ms  CLS ${f.cls.toFixed(2)}  SI ${(f.si / 1000).toFixed(1)} s  ${Math.round(f.bytes / 1024)} KiB`

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  await mkdir(OUT, { recursive: true })
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Russian, the deployment's default language, as most operators see it
    // (headless Chromium takes navigator.language from --accept-lang).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--lang=ru-RU',
      '--accept-lang=ru-RU',
      // The private CA with-stack.sh made for an HTTPS run is not one
      // Chromium knows.
      ...(HTTPS ? ['--ignore-certificate-errors'] : []),
    ],
    defaultViewport: null,
  })
  /** @type {import('lighthouse').Flags} */
  const flags = { output: 'json', logLevel: 'error', onlyCategories: ['performance'] }
  /** @type {Record<string, ReturnType<typeof figures>[]>} */
  const results = { 'sign-in': [], home: [] }
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const name of Object.keys(results)) {
        // A context of its own for each run: sign-in is measured signed
        // out, whatever the previous home run left in localStorage.
        const context = await browser.createBrowserContext()
        const page = await context.newPage()
        let url = `${BASE}/login`
        let runFlags = { ...flags }
        if (name === 'home') {
          // Signed in, as the console keeps a session; then a cold HTTP cache.
          const s = await session()
          await page.goto(`${BASE}/login`)
          await page.evaluate((v) => localStorage.setItem('crm.session', v), JSON.stringify(s))
          const cdp = await page.createCDPSession()
          await cdp.send('Network.clearBrowserCache')
          await cdp.detach()
          url = `${BASE}/`
          runFlags = { ...flags, disableStorageReset: true }
        }
        const result = await lighthouse(url, runFlags, undefined, page)
        if (!result) throw new Error(`Lighthouse returned nothing for ${url}`)
        if (result.lhr.runtimeError) throw new Error(`${name}: ${result.lhr.runtimeError.code} ${result.lhr.runtimeError.message}`)
        await writeFile(`${OUT}${HTTPS ? 'https-' : ''}${name}-${run}.json`, String(result.report))
        const f = figures(result.lhr)
        results[name].push(f)
        console.log(`${name.padEnd(8)} run ${run} over ${OVER}: ${line(f)}`)
        console.log(`           LCP element: ${f.lcpElement}`)
        console.log(`           main thread (ms): ${f.mainThread}`)
        console.log(`           scripts (ms): ${f.scripts}`)
        await context.close()
      }
    }
  } finally {
    await browser.close()
  }

  let missed = false
  console.log(
    `\nLighthouse over ${OVER}, ${RUNS} run(s) per page, medians (goals: score ≥ ${GOALS.score}, LCP ≤ ${GOALS.lcp / 1000} s, TBT ≤ ${GOALS.tbt} ms, CLS ≤ ${GOALS.cls}):`,
  )
  for (const [name, fs] of Object.entries(results)) {
    const m = {
      score: median(fs.map((f) => f.score)),
      fcp: median(fs.map((f) => f.fcp)),
      lcp: median(fs.map((f) => f.lcp)),
      tbt: median(fs.map((f) => f.tbt)),
      cls: median(fs.map((f) => f.cls)),
      si: median(fs.map((f) => f.si)),
      bytes: median(fs.map((f) => f.bytes)),
    }
    const range = `score ${Math.min(...fs.map((f) => f.score))}–${Math.max(...fs.map((f) => f.score))}`
    const ok = m.score >= GOALS.score && m.lcp <= GOALS.lcp && m.tbt <= GOALS.tbt && m.cls <= GOALS.cls
    missed ||= !ok
    console.log(`  ${name.padEnd(8)} ${line({ ...m, lcpElement: '', mainThread: '', scripts: '' })}  (${range}) ${ok ? 'meets the goals' : 'misses the goals'}`)
  }
  console.log(`reports in ${OUT}`)
  if (missed && process.env.LH_ENFORCE === '1') process.exit(1)
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e)
  process.exit(1)
})
