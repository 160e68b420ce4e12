// The icon font is found late: the browser asks for it only once a page's
// styles are applied and an icon is drawn, after the entry script, the
// screen's chunks and their CSS. On a phone that put its download right
// before the first screen's largest paint. A preload in index.html starts it
// with the entry script instead.

import type { HtmlTagDescriptor, Plugin } from 'vite'

/** The preload tags for the bundle's woff2 fonts whose names match `font`. */
export function fontPreloadTags(fileNames: string[], font: RegExp, base: string): HtmlTagDescriptor[] {
  const fonts = fileNames.filter((name) => font.test(name))
  if (fonts.length === 0) throw new Error(`fontPreload: no file of the build matches ${font}; check vite.config.ts`)
  return fonts.map((name) => ({
    tag: 'link',
    // Fonts are fetched without credentials in CORS mode; a preload made
    // otherwise would not be used, and the font would be fetched twice.
    attrs: { rel: 'preload', href: `${base}${name}`, as: 'font', type: 'font/woff2', crossorigin: '' },
    injectTo: 'head',
  }))
}

/** Preloads the built woff2 fonts matching `font` from index.html. */
export function fontPreloadPlugin(font: RegExp): Plugin {
  let base = '/'
  return {
    name: 'crm:font-preload',
    apply: 'build',
    configResolved(config) {
      base = config.base
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        return fontPreloadTags(Object.keys(ctx.bundle ?? {}), font, base)
      },
    },
  }
}
