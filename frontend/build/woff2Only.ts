// PrimeIcons' stylesheet lists its font in five formats; every browser the
// console supports reads woff2, and Vite would copy (and a crawler fetch)
// the other four for nothing.

import type { Plugin } from 'vite'

const FONT_SRC = /src:\s*url\([^)]*\.eot[^)]*\);\s*src:[^;]*;/

/** The @font-face of primeicons.css with woff2 as its only source. */
export function woff2OnlyFontFace(css: string): string {
  const woff2 = /url\(['"]?([^'")]*\.woff2)['"]?\)/.exec(css)?.[1]
  if (!woff2 || !FONT_SRC.test(css)) throw new Error('primeicons.css no longer has the @font-face this build rewrites; check woff2Only')
  return css.replace(FONT_SRC, `src: url('${woff2}') format('woff2');`)
}

export function woff2OnlyPlugin(): Plugin {
  return {
    name: 'crm:primeicons-woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/primeicons[\\/]primeicons\.css$/.test(id.split('?')[0] ?? '')) return null
      return { code: woff2OnlyFontFace(code), map: null }
    },
  }
}
