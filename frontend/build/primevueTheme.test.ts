/// <reference lib="dom" />
// Runs in jsdom: the run-time path it compares with injects <style> elements.
import { resolve } from 'node:path'
import { mount } from '@vue/test-utils'
import PrimeVue from 'primevue/config'
import { beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { crmTheme } from '../src/theme'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import {
  PRIMEVUE_THEME_ID,
  primevueModules,
  primevueRuntimeStylesPlugin,
  primevueTemplatesPlugin,
  primevueTheme,
  primevueThemeCss,
  primevueThemePlugin,
  themePartId,
  withoutStyleLoading,
} from './primevueTheme'

// Vitest runs from the console's folder (jsdom gives import.meta.url no file path).
const SRC = resolve('src')

/**
 * The run-time path: a styled PrimeVue injects one <style> per part as the
 * components mount. Password brings InputText and (with its mask toggle) an icon.
 */
async function injectedStyles(): Promise<Map<string, string>> {
  const Button = (await import('primevue/button')).default
  const Checkbox = (await import('primevue/checkbox')).default
  const Password = (await import('primevue/password')).default
  const wrapper = mount(
    defineComponent({ render: () => [h(Button, { label: 'OK' }), h(Checkbox, { binary: true }), h(Password, { modelValue: 'x', toggleMask: true })] }),
    {
      global: { plugins: [[PrimeVue, { theme: crmTheme }]] },
      attachTo: document.body,
    },
  )
  const injected = new Map(
    Array.from(document.head.querySelectorAll('style[data-primevue-style-id]')).map((el) => [
      el.getAttribute('data-primevue-style-id') ?? '',
      (el.textContent ?? '').trim(),
    ]),
  )
  wrapper.unmount()
  return injected
}

let injected: Map<string, string>
beforeAll(async () => {
  injected = await injectedStyles()
})

/** The injected styles of the given ids, in order, as the build joins them. */
const joined = (...ids: string[]) =>
  ids
    .map((id) => injected.get(id) ?? '')
    .filter(Boolean)
    .join('\n')

describe('primevueModules', () => {
  it('follows what the named components import, and names each module once', () => {
    const sources: Record<string, string> = {
      'primevue/datatable': "import Paginator from 'primevue/paginator'; import Button from 'primevue/button'",
      'primevue/paginator': "import Select from 'primevue/select'",
      'primevue/button': "import SpinnerIcon from '@primevue/icons/spinner'",
    }
    const modules = primevueModules(["import DataTable from 'primevue/datatable'", "import Button from 'primevue/button'"], (name) => sources[name])
    expect(modules).toEqual(['@primevue/icons/spinner', 'primevue/button', 'primevue/datatable', 'primevue/paginator', 'primevue/select'])
  })
})

describe('primevueTheme', () => {
  it('makes the base and each module’s part exactly as PrimeVue injects them in the browser', async () => {
    expect([...injected.keys()]).toEqual(
      expect.arrayContaining([
        'primitive-variables',
        'semantic-variables',
        'global-style',
        'button-variables',
        'button-style',
        'inputtext-style',
        'password-style',
      ]),
    )
    const css = await primevueTheme(crmTheme)

    // and the core CSS every component ('base') and icon ('baseicon') loads
    expect(css.base).toBe(joined('layer-order', 'primitive-variables', 'semantic-variables', 'global-variables', 'global-style', 'base', 'baseicon'))
    expect(css.base).toContain('.p-hidden-accessible{')
    for (const name of ['button', 'checkbox', 'password', 'inputtext']) {
      expect(await css.module(`primevue/${name}`), name).toBe(joined(`${name}-variables`, `${name}-style`))
    }
    // Modules without a style of their own have no part.
    expect(await css.module('primevue/config')).toBe('')
    expect(await css.module('@primevue/icons/eye')).toBe('')
  })

  it('puts the base and the parts together in one piece, each part once', async () => {
    const css = await primevueTheme(crmTheme)
    const modules = primevueModules(["'primevue/button' 'primevue/checkbox' 'primevue/password'"])
    const whole = await primevueThemeCss(crmTheme, modules)

    expect(whole.startsWith(css.base)).toBe(true)
    for (const name of modules) {
      const part = await css.module(name)
      if (part) expect(whole.split(part), name).toHaveLength(2)
    }
    for (const [id, style] of injected) {
      if (/variables$|-style$|layer-order/.test(id) && style) expect(whole, id).toContain(style)
    }
    expect(whole).toContain('--p-primary-color:var(--p-primary-600)')
  })
})

type Hook<A extends unknown[], R> = (this: { addWatchFile(file: string): void }, ...args: A) => R

/** A plugin hook's function, whichever form (function or { handler }) the plugin gives it in. */
function handler<A extends unknown[], R>(hook: unknown): Hook<A, R> {
  return (typeof hook === 'function' ? hook : (hook as { handler: unknown }).handler) as Hook<A, R>
}

/** The plugin as Vite runs it for `command`. */
function plugin(command: 'build' | 'serve') {
  const p = primevueThemePlugin(crmTheme, SRC)
  handler<[{ command: string }], void>(p.configResolved).call({ addWatchFile() {} }, { command })
  const ctx = { addWatchFile() {} }
  return {
    filter: (p.transform as { filter: { id: RegExp } }).filter.id,
    resolveId: (id: string) => handler<[string], string | null>(p.resolveId).call(ctx, id),
    load: (id: string) => handler<[string], Promise<string | null>>(p.load).call(ctx, id),
    transform: (code: string, id: string) => handler<[string, string], Promise<{ code: string } | null>>(p.transform).call(ctx, code, id),
  }
}

describe('primevueThemePlugin', () => {
  it('in a build, has each PrimeVue module with a style import its own part, and serves the base alone', async () => {
    const vite = plugin('build')
    const css = await primevueTheme(crmTheme)
    const button = '/app/node_modules/primevue/button/index.mjs'

    expect(vite.filter.test(button)).toBe(true)
    expect(vite.filter.test('/app/node_modules/primevue/button/style/index.mjs')).toBe(false)
    expect(vite.filter.test('/app/node_modules/@primevue/icons/check/index.mjs')).toBe(false)
    expect((await vite.transform('export default 1', button))?.code).toBe(`export default 1\nimport '${themePartId('button')}'\n`)
    expect(await vite.transform('export default 1', '/app/node_modules/primevue/config/index.mjs')).toBeNull()

    const partId = vite.resolveId(themePartId('button'))
    expect(partId).toBe(`\0${themePartId('button')}`)
    expect(await vite.load(partId!)).toBe(await css.module('primevue/button'))
    expect(await vite.load(vite.resolveId(PRIMEVUE_THEME_ID)!)).toBe(css.base)
    expect(vite.resolveId('virtual:other.css')).toBeNull()
  })

  it('for the dev server, which pre-bundles PrimeVue, serves every part in the base and adds no import', async () => {
    const vite = plugin('serve')
    const css = await primevueTheme(crmTheme)

    expect(await vite.transform('export default 1', '/app/node_modules/primevue/button/index.mjs')).toBeNull()
    const base = await vite.load(vite.resolveId(PRIMEVUE_THEME_ID)!)
    expect(base?.startsWith(css.base)).toBe(true)
    expect(base).toContain(await css.module('primevue/button'))
    expect(base).toContain(await css.module('primevue/datatable'))
  })
})

describe('primevueTemplatesPlugin', () => {
  it('empties the theme’s CSS templates in a build only, and touches no other module', async () => {
    const p = primevueTemplatesPlugin()
    const load = p.load as { filter: { id: RegExp }; handler: () => string }
    expect(p.apply).toBe('build')
    expect(load.filter.id.test('/app/node_modules/@primeuix/styles/dist/button/index.mjs')).toBe(true)
    expect(load.filter.id.test('/app/node_modules/primevue/button/style/index.mjs')).toBe(false)
    expect(load.filter.id.test('/app/node_modules/@primeuix/styled/dist/index.mjs')).toBe(false)
    // A template module exports its `style` and nothing else, which the stand-in keeps.
    const template = await import('@primeuix/styles/button')
    expect(Object.keys(template)).toEqual(['style'])
    expect(load.handler()).toBe("export const style = ''\n")
  })
})

describe('primevueRuntimeStylesPlugin', () => {
  const require = createRequire(import.meta.url)
  const source = (name: string) => readFileSync(require.resolve(name), 'utf8')

  it('turns the style loaders of PrimeVue’s base component and base directive into no-ops, in a build only', () => {
    const p = primevueRuntimeStylesPlugin()
    const transform = p.transform as { filter: { id: { include: RegExp[] } }; handler: (code: string, id: string) => { code: string } | null }
    expect(p.apply).toBe('build')
    const matches = (id: string) => transform.filter.id.include.some((re) => re.test(id))
    expect(matches('/app/node_modules/@primevue/core/basecomponent/index.mjs')).toBe(true)
    expect(matches('/app/node_modules/@primevue/core/basedirective/index.mjs')).toBe(true)
    expect(matches('/app/node_modules/primevue/button/index.mjs')).toBe(false)

    const component = transform.handler(source('@primevue/core/basecomponent'), '/app/node_modules/@primevue/core/basecomponent/index.mjs')?.code
    expect(component?.endsWith('script.methods._loadStyles = function () {}\nscript.methods._loadCoreStyles = function () {}\n')).toBe(true)
    const directive = transform.handler(source('@primevue/core/basedirective'), '/app/node_modules/@primevue/core/basedirective/index.mjs')?.code
    expect(directive?.endsWith('BaseDirective._loadStyles = function () {}\nBaseDirective._loadCoreStyles = function () {}\n')).toBe(true)
  })

  it('fails the build when PrimeVue no longer loads styles where it did, rather than ship that work again', () => {
    expect(() => withoutStyleLoading('export { script as default };', 'script', 'script.methods', 'basecomponent')).toThrow(
      /basecomponent no longer has _loadStyles/,
    )
  })
})
