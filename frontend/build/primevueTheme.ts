// PrimeVue's styled mode turns the theme's design tokens into CSS in the
// browser, component by component as each first mounts: on a phone that was
// most of the console's blocking time. The tokens never change here, so the
// build makes the same CSS once and the app runs PrimeVue with
// `theme: 'none'`, which skips the runtime work.
//
// The CSS is made by the same functions PrimeVue calls at run time
// (BaseComponent._loadThemeStyles), in parts: a base every page needs
// (`virtual:primevue-theme.css`, imported by main.ts) and each PrimeVue
// module's own, which the module imports, so a page downloads and parses the
// CSS of the components it loads rather than of all the console's.

import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Plugin } from 'vite'

const require = createRequire(import.meta.url)

export const PRIMEVUE_THEME_ID = 'virtual:primevue-theme.css'
const RESOLVED_ID = `\0${PRIMEVUE_THEME_ID}`
const PART_PREFIX = 'virtual:primevue-theme/'

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
  /** Core CSS, apart from the theme: the base's and the icons' (VirtualScroller loads its own). */
  css?: unknown
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

/** The theme's CSS in parts: what every page needs, and each PrimeVue module's own. */
export interface ThemeCss {
  /** Layer order, primitive, semantic and global tokens, global CSS and `global-style`. */
  base: string
  /** The module's component (or directive) tokens and style; '' for a module without a style. */
  module(name: string): Promise<string>
}

/**
 * The theme's CSS as PrimeVue would inject it, in parts. It sets `theme` on
 * PrimeVue's shared Theme, as PrimeVue's config does in the browser.
 */
export async function primevueTheme(theme: unknown): Promise<ThemeCss> {
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
  const join = (parts: unknown[]) =>
    parts
      .map((part) => (part ? minifyCSS(text(part)) : ''))
      .filter(Boolean)
      .join('\n')

  const common = BaseStyle.getCommonTheme()
  const IconStyle = (await import('@primevue/icons/baseicon/style')).default as unknown as ComponentStyle
  return {
    base: join([
      Theme.getLayerOrderCSS('base'),
      common.primitive?.css,
      common.semantic?.css,
      common.global?.css,
      styleOf('global-style', BaseStyle.style, common.style),
      // The core CSS every component and icon loads (`.p-hidden-accessible`, `.p-icon`).
      BaseStyle.css,
      IconStyle.css,
    ]),
    async module(name) {
      const style = await importStyle(name)
      if (!style?.name || !style.getComponentTheme) return ''
      // A directive (tooltip, ripple) keeps its tokens apart from the components'.
      const own = style.getComponentTheme()
      const part = own?.css || own?.style ? own : style.getDirectiveTheme?.()
      return join([part?.css, styleOf(`${style.name}-style`, style.style, part?.style)])
    },
  }
}

/** The theme's CSS for the given PrimeVue modules in one piece: the base, then each module's part. */
export async function primevueThemeCss(theme: unknown, modules: string[]): Promise<string> {
  const css = await primevueTheme(theme)
  const parts = await Promise.all(modules.map((name) => css.module(name)))
  return [css.base, ...parts].filter(Boolean).join('\n')
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

/** A PrimeVue module's file as the bundler resolves it: `…/node_modules/primevue/<name>/index.mjs`. */
const MODULE_FILE = /[\\/]node_modules[\\/]primevue[\\/]([a-z]+)[\\/]index\.mjs$/

/** The id of one PrimeVue module's part of the theme: `virtual:primevue-theme/button.css`. */
export function themePartId(name: string): string {
  return `${PART_PREFIX}${name}.css`
}

/**
 * Serves the theme's CSS. In a build, `virtual:primevue-theme.css` is the
 * base, and each PrimeVue module with a style imports its own part
 * (`virtual:primevue-theme/<name>.css`), so Vite puts a component's CSS in
 * the chunk that uses it: a route's components come with the route. The dev
 * server pre-bundles PrimeVue, out of this plugin's reach, so there the base
 * carries the parts of every module imported under `srcDir`.
 */
export function primevueThemePlugin(theme: unknown, srcDir: string): Plugin {
  let split = false
  let themeCss: Promise<ThemeCss> | undefined
  const css = () => (themeCss ??= primevueTheme(theme))
  const parts = new Map<string, Promise<string>>()
  const part = (name: string) => {
    let found = parts.get(name)
    if (!found) parts.set(name, (found = css().then((c) => c.module(`primevue/${name}`))))
    return found
  }

  return {
    name: 'crm:primevue-theme',
    configResolved(config) {
      split = config.command === 'build'
    },
    resolveId(id) {
      return id === PRIMEVUE_THEME_ID || (id.startsWith(PART_PREFIX) && id.endsWith('.css')) ? `\0${id}` : null
    },
    async load(id) {
      if (id === RESOLVED_ID) {
        if (split) return (await css()).base
        const files = sourceFiles(srcDir)
        for (const file of files) this.addWatchFile(file)
        const modules = primevueModules(files.map((file) => readFileSync(file, 'utf8')))
        if (modules.length === 0) throw new Error(`no PrimeVue component is imported under ${srcDir}`)
        return primevueThemeCss(theme, modules)
      }
      if (id.startsWith(`\0${PART_PREFIX}`)) return part(id.slice(PART_PREFIX.length + 1, -'.css'.length))
      return null
    },
    transform: {
      filter: { id: MODULE_FILE },
      async handler(code, id) {
        const name = MODULE_FILE.exec(id)?.[1]
        if (!split || !name || !(await part(name))) return null
        // Appended, so the module's own code keeps its place (and its source map).
        return { code: `${code}\nimport '${themePartId(name)}'\n`, map: null }
      },
    },
  }
}

/** A file of @primeuix/styles: one component's theme as a CSS template (`style`) for PrimeVue to fill in the browser. */
const THEME_TEMPLATE = /[\\/]node_modules[\\/]@primeuix[\\/]styles[\\/]dist[\\/][a-z]+[\\/]index\.mjs$/

/**
 * Empties the theme's CSS templates in the bundle. Each PrimeVue component's
 * module imports its template (@primeuix/styles), but with `theme: 'none'`
 * PrimeVue never reads it: the build has made the CSS already (above). The
 * templates were a third of the script the sign-in page downloaded and
 * parsed. primevueTheme reads them with Node's own import, which this does
 * not touch; the dev server and the unit tests keep them.
 */
export function primevueTemplatesPlugin(): Plugin {
  return {
    name: 'crm:primevue-templates',
    apply: 'build',
    load: {
      filter: { id: THEME_TEMPLATE },
      handler: () => "export const style = ''\n",
    },
  }
}

/** PrimeVue's base of every component and of every directive, and the name its module exports. */
const STYLE_LOADERS: { file: RegExp; exported: string; methods: string }[] = [
  { file: /[\\/]node_modules[\\/]@primevue[\\/]core[\\/]basecomponent[\\/]index\.mjs$/, exported: 'script', methods: 'script.methods' },
  { file: /[\\/]node_modules[\\/]@primevue[\\/]core[\\/]basedirective[\\/]index\.mjs$/, exported: 'BaseDirective', methods: 'BaseDirective' },
]

/**
 * Stops PrimeVue loading styles in the browser. Even with `theme: 'none'`
 * every component and directive instance, as it mounts, made its core CSS
 * and put it in a `<style>` again (each one clears the record of what is
 * loaded): on the home's first render that was a tenth of the main
 * thread's work on a phone. The build has made that CSS too
 * (primevueTheme: the base and each module's part), so the loaders become
 * no-ops. Fails the build when PrimeVue's modules change shape, rather than
 * ship the old work again.
 */
export function primevueRuntimeStylesPlugin(): Plugin {
  return {
    name: 'crm:primevue-runtime-styles',
    apply: 'build',
    transform: {
      filter: { id: { include: STYLE_LOADERS.map((l) => l.file) } },
      handler(code, id) {
        const loader = STYLE_LOADERS.find((l) => l.file.test(id))
        if (!loader) return null
        return { code: withoutStyleLoading(code, loader.exported, loader.methods, id), map: null }
      },
    },
  }
}

/** code with `<methods>._loadStyles` and `_loadCoreStyles` replaced by no-ops, after the module's own code. */
export function withoutStyleLoading(code: string, exported: string, methods: string, id = 'module'): string {
  const missing = [`export { ${exported} as default }`, '_loadStyles: function _loadStyles(', '_loadCoreStyles: function _loadCoreStyles('].filter(
    (needle) => !code.includes(needle),
  )
  if (missing.length > 0) throw new Error(`primevueRuntimeStyles: ${id} no longer has ${missing.join(', ')}; check that PrimeVue still loads styles as it did`)
  return `${code}\n${methods}._loadStyles = function () {}\n${methods}._loadCoreStyles = function () {}\n`
}
