// The sign-in page and the signed-in home are what a phone loads first. Left
// to itself the bundler cuts the modules they share with the other routes
// into ~40 small files, and over plain HTTP/1.1 a browser fetches six at a
// time, one round trip each. This build gathers each first screen's modules
// into a few files instead: those both screens use, those only sign-in uses,
// and those only the home (in its shell) uses. Modules move, never copy, so
// each keeps one instance of its state; other routes load these files when
// they need a module in them.

import type { Plugin, Rolldown } from 'vite'

/** The modules a page starts from, as absolute file paths (the lazy route components). */
export interface FirstScreensOptions {
  signIn: string[]
  home: string[]
}

/** The chunks the first screens come in: what both use, and each one's own. */
export const CHUNKS = ['first-shared', 'first-sign-in', 'first-home'] as const
type Chunk = (typeof CHUNKS)[number]

/** The chunk each first-screen module goes to, by module id. */
export type Placement = Map<string, Chunk>

/**
 * Places the modules statically reachable from each screen's roots, except
 * those the entry already loads: shared by both screens, or one screen's own.
 * The entry's reach counts what its barrel modules re-export even where
 * tree-shaking drops it; such a module stays where the bundler puts it.
 */
export function placeFirstScreens(entries: string[], roots: FirstScreensOptions, imports: (id: string) => readonly string[] | undefined): Placement {
  const reach = (from: string[], skip: Set<string>): Set<string> => {
    const seen = new Set<string>()
    const todo = from.filter((id) => !skip.has(id))
    while (todo.length > 0) {
      const id = todo.pop() as string
      if (seen.has(id)) continue
      const next = imports(id)
      if (next === undefined) throw new Error(`firstScreens: ${id} is not a module of this build; check the roots in vite.config.ts`)
      seen.add(id)
      for (const n of next) if (!skip.has(n) && !seen.has(n)) todo.push(n)
    }
    return seen
  }
  const entry = reach(entries, new Set())
  const signIn = reach(roots.signIn, entry)
  const home = reach(roots.home, entry)
  const placement: Placement = new Map()
  for (const id of signIn) placement.set(id, home.has(id) ? 'first-shared' : 'first-sign-in')
  for (const id of home) if (!signIn.has(id)) placement.set(id, 'first-home')
  return placement
}

/** A plugin that learns the module graph, and the code-splitting groups that use what it learnt. */
export function firstScreens(roots: FirstScreensOptions): { plugin: Plugin; groups: Rolldown.CodeSplittingGroup[] } {
  let placement: Placement = new Map()
  const plugin: Plugin = {
    name: 'crm:first-screens',
    apply: 'build',
    buildEnd(error) {
      if (error) return
      const ids = [...this.getModuleIds()]
      const entries = ids.filter((id) => this.getModuleInfo(id)?.isEntry)
      placement = placeFirstScreens(entries, roots, (id) => this.getModuleInfo(id)?.importedIds)
    },
  }
  const groups = CHUNKS.map((name): Rolldown.CodeSplittingGroup => ({
    name,
    test: (id: string) => placement.get(id) === name,
    // A group also takes its modules' dependencies unless told not to; the
    // placement has every one it should take already.
    includeDependenciesRecursively: false,
  }))
  return { plugin, groups }
}
