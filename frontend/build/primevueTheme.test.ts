/// <reference lib="dom" />
// Runs in jsdom: the run-time path it compares with injects <style> elements.
import { mount } from '@vue/test-utils'
import PrimeVue from 'primevue/config'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { crmTheme } from '../src/theme'
import { primevueModules, primevueThemeCss } from './primevueTheme'

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

describe('primevueThemeCss', () => {
  it('makes the CSS PrimeVue would inject in the browser for the same components', async () => {
    // The run-time path: a styled PrimeVue injects <style> elements as the
    // components mount.
    const Button = (await import('primevue/button')).default
    const Checkbox = (await import('primevue/checkbox')).default
    const wrapper = mount(defineComponent({ render: () => [h(Button, { label: 'OK' }), h(Checkbox, { binary: true })] }), {
      global: { plugins: [[PrimeVue, { theme: crmTheme }]] },
      attachTo: document.body,
    })
    const injected = Array.from(document.head.querySelectorAll('style[data-primevue-style-id]'))
      .map((el) => [el.getAttribute('data-primevue-style-id') ?? '', el.textContent ?? ''] as const)
      .filter(([id]) => /variables$|-style$|layer-order/.test(id))
    wrapper.unmount()
    expect(injected.map(([id]) => id)).toEqual(
      expect.arrayContaining(['primitive-variables', 'semantic-variables', 'global-style', 'button-variables', 'button-style', 'checkbox-style']),
    )

    const built = await primevueThemeCss(crmTheme, primevueModules(["'primevue/button' 'primevue/checkbox'"]))
    for (const [id, css] of injected) {
      if (css.trim()) expect(built, id).toContain(css.trim())
    }
    expect(built).toContain('--p-primary-color:var(--p-primary-600)')
  })
})
