import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'
import { routes } from './routes'

function all(records: RouteRecordRaw[]): RouteRecordRaw[] {
  return records.flatMap((r) => [r, ...all(r.children ?? [])])
}

describe('routes', () => {
  it('load every screen on demand, so the entry carries none of them', () => {
    const eager = all(routes)
      .filter((r) => 'component' in r && typeof r.component !== 'function')
      .map((r) => r.path)
    expect(all(routes).length).toBeGreaterThan(10)
    expect(eager).toEqual([])
  })
})
