import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { woff2OnlyFontFace } from './woff2Only'

const require = createRequire(import.meta.url)

describe('woff2OnlyFontFace', () => {
  it('leaves PrimeIcons one font source, the woff2', async () => {
    const css = await readFile(require.resolve('primeicons/primeicons.css'), 'utf8')
    const out = woff2OnlyFontFace(css)
    expect(out.match(/url\([^)]*\)/g)).toEqual(["url('./fonts/primeicons.woff2')"])
    expect(out).toContain('.pi-check:before')
  })

  it('fails the build when the stylesheet changes shape, rather than ship every format again', () => {
    expect(() => woff2OnlyFontFace("@font-face { src: url('x.woff') format('woff'); }")).toThrow(/woff2Only/)
  })
})
