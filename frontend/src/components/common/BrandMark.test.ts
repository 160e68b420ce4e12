import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { mountWith } from '@/test/mount'
import BrandMark from './BrandMark.vue'

/** An SVG's shapes as tag and attributes, in order. */
const shapes = (svg: Element) => Array.from(svg.children).map((el) => [el.tagName, Object.fromEntries(Array.from(el.attributes).map((a) => [a.name, a.value]))])

describe('BrandMark', () => {
  it('draws the favicon’s mark at the size asked for, hidden from screen readers', () => {
    // vitest runs in frontend/
    const favicon = new DOMParser().parseFromString(readFileSync(resolve('public/favicon.svg'), 'utf8'), 'image/svg+xml').documentElement
    const { wrapper } = mountWith(BrandMark, { props: { size: 24 } })
    const svg = wrapper.get('svg').element
    expect(shapes(svg)).toEqual(shapes(favicon))
    expect(svg.getAttribute('viewBox')).toBe(favicon.getAttribute('viewBox'))
    expect(svg.getAttribute('width')).toBe('24')
    expect(svg.getAttribute('aria-hidden')).toBe('true')
  })
})
