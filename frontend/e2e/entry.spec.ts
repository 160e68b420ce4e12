// The first screen: what index.html loads is small, precompressed and cached
// for good (PERFORMANCE.md, P7).

import { BASE, expect, test } from './fixtures'

/** The most the first screen may download of JavaScript and CSS, compressed. */
const ENTRY_BUDGET = 150 * 1024

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
  test.info().annotations.push({ type: 'entry', description: `${entry.length} files, ${(total / 1024).toFixed(1)} KiB brotli` })
  expect(total, `the entry is ${total} bytes compressed`).toBeGreaterThan(0)
  expect(total, `the entry is ${total} bytes compressed, over ${ENTRY_BUDGET}`).toBeLessThanOrEqual(ENTRY_BUDGET)
})
