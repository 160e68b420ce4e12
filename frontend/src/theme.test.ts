import { describe, expect, it } from 'vitest'
import { CrmPreset } from './theme'

type Tokens = Record<string, unknown>

/** Follows '{blue.600}' references through the preset to a colour. */
function resolve(value: string): string {
  const ref = /^\{(.+)\}$/.exec(value)?.[1]
  if (!ref) return value
  const preset = CrmPreset as unknown as { primitive: Tokens; semantic: Tokens & { colorScheme: { light: Tokens } } }
  for (const root of [preset.semantic.colorScheme.light, preset.semantic, preset.primitive]) {
    const found = ref.split('.').reduce<unknown>((node, key) => (node as Tokens | undefined)?.[key], root)
    if (typeof found === 'string') return resolve(found)
  }
  throw new Error(`no token ${value}`)
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(resolve(a)), luminance(resolve(b))].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

describe('theme', () => {
  it('gives text WCAG 2.1 AA contrast (4.5:1): primary buttons, links and muted text', () => {
    expect(contrast('{primary.contrastColor}', '{primary.color}')).toBeGreaterThanOrEqual(4.5)
    expect(contrast('{primary.color}', '#ffffff')).toBeGreaterThanOrEqual(4.5)
    expect(contrast('{primary.hoverColor}', '#ffffff')).toBeGreaterThanOrEqual(4.5)
    for (const surface of ['#ffffff', '{surface.50}', '{surface.100}']) {
      expect(contrast('{text.mutedColor}', surface), surface).toBeGreaterThanOrEqual(4.5)
    }
    const components = (CrmPreset as unknown as { components: Record<string, { colorScheme: { light: Record<string, Tokens> } }> }).components
    const toggle = components.togglebutton!.colorScheme.light.root!
    expect(contrast(toggle.color as string, '{surface.100}')).toBeGreaterThanOrEqual(4.5)
    const info = components.badge!.colorScheme.light.info!
    expect(contrast(info.color as string, info.background as string)).toBeGreaterThanOrEqual(4.5)
  })
})
