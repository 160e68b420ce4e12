// PrimeVue's styled mode turns the theme's design tokens into CSS in the
// browser, component by component as each first mounts: on a phone that was
// most of the console's blocking time. The tokens never change here, so the
// build makes the same CSS once (`virtual:primevue-theme.css`) and the app
// runs PrimeVue with `theme: 'none'`, which skips the runtime work.
//
// The CSS is made by the same functions PrimeVue calls at run time
// (BaseComponent._loadThemeStyles), for every PrimeVue component the console
// imports and every component those import in turn.

import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Plugin } from 'vite'

const require = createRequire(import.meta.url)

export const PRIMEVUE_THEME_ID = 'virtual:primevue-theme.css'
const RESOLVED_ID = `\0${PRIMEVUE_THEME_ID}`

/** A PrimeVue module the source names: `primevue/datatable`, `@primevue/icons/check`. */
const MODULE = /['"]((?:primevue|@primevue\/icons)\/[a-z]+)['"]/g

/** The PrimeVue modules `sources` import, and everything they import, in a stable order. */
export function primevueModules(sources: string[], read = readModule): string[] {
  const seen = new Set<string>()
  const queue = sources.flatMap((code) => [...code.matchAll(MODULE)].map((m) => m[1]!))
  while (queue.length > 0) {
    const name = queue.shift()!
    if (seen.has(name)) continue
    seen.add(name)
    const code = read(name)
    if (code) queue.push(...[...code.matchAll(MODULE)].map((m) => m[1]!))
  }
  return [...seen].sort()
}

function readModule(name: string): string | undefined {
  try {
    return readFileSync(require.resolve(name), 'utf8')
  } catch {
    return undefined // not a module of its own (a type-only name)
  }
}

interface ComponentStyle {
  name: string
  style?: unknown
  getComponentTheme?: () => PresetPart | undefined
  getDirectiveTheme?: () => PresetPart | undefined
}

/** A component's (or directive's) part of the preset: its variables and style. */
interface PresetPart {
  css?: string
  style?: unknown
}

interface Styled {
  Theme: {
    setTheme(theme: unknown): void
    transformCSS(name: string, css: string): string
    getLayerOrderCSS(name: string): string
  }
  css(strings: TemplateStringsArray, ...values: unknown[]): string
}

/** The theme's CSS for the given PrimeVue modules, as PrimeVue would inject it. */
export async function primevueThemeCss(theme: unknown, modules: string[]): Promise<string> {
  const styled = (await import('@primeuix/styled')) as unknown as Styled
  const { minifyCSS } = (await import('@primeuix/utils/object')) as { minifyCSS(css: string): string }
  const BaseStyle = (await import('@primevue/core/base/style')).default as unknown as ComponentStyle & {
    getCommonTheme(): Record<'primitive' | 'semantic' | 'global', { css?: string } | undefined> & { style?: unknown }
  }
  const { Theme, css } = styled
  Theme.setTheme(theme)

  const text = (value: unknown) => css`
    ${value}
  `
  // BaseStyle.loadStyle: the component's own style, then the preset's, under its layer.
  const styleOf = (name: string, own: unknown, extra: unknown) => minifyCSS(Theme.transformCSS(name, `${text(own)}${text(extra)}`))

  const common = BaseStyle.getCommonTheme()
  const parts = [
    Theme.getLayerOrderCSS('base'),
    common.primitive?.css,
    common.semantic?.css,
    common.global?.css,
    styleOf('global-style', BaseStyle.style, common.style),
  ]
  for (const name of modules) {
    const style = await importStyle(name)
    if (!style?.name || !style.getComponentTheme) continue
    // A directive (tooltip, ripple) keeps its tokens apart from the components'.
    const own = style.getComponentTheme()
    const part = own?.css || own?.style ? own : style.getDirectiveTheme?.()
    parts.push(part?.css, styleOf(`${style.name}-style`, style.style, part?.style))
  }
  return parts
    .map((part) => (part ? minifyCSS(text(part)) : ''))
    .filter(Boolean)
    .join('\n')
}

async function importStyle(name: string): Promise<ComponentStyle | undefined> {
  let path: string
  try {
    path = require.resolve(`${name}/style`)
  } catch {
    return undefined // no style of its own: a service, an icon, a helper
  }
  return ((await import(path)) as { default?: ComponentStyle }).default
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(entry.parentPath, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.(vue|ts)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : []
  })
}

/**
 * Serves `virtual:primevue-theme.css`: the theme's CSS for the PrimeVue
 * components imported anywhere under `srcDir`.
 */
export function primevueThemePlugin(theme: unknown, srcDir: string): Plugin {
  return {
    name: 'crm:primevue-theme',
    resolveId(id) {
      return id === PRIMEVUE_THEME_ID ? RESOLVED_ID : null
    },
    async load(id) {
      if (id !== RESOLVED_ID) return null
      const files = sourceFiles(srcDir)
      for (const file of files) this.addWatchFile(file)
      const modules = primevueModules(files.map((file) => readFileSync(file, 'utf8')))
      if (modules.length === 0) throw new Error(`no PrimeVue component is imported under ${srcDir}`)
      return primevueThemeCss(theme, modules)
    },
  }
}
