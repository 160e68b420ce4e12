import type { Rolldown } from 'vite'
import { describe, expect, it } from 'vitest'
import { COMPILE_HINT, compileHintsPlugin, loadedFirst } from './compileHints'

/** A chunk as the bundler hands it over: only what the plugin reads. */
function chunk(fileName: string, name: string, imports: string[], isEntry = false): Rolldown.OutputChunk {
  return { type: 'chunk', fileName, name, imports, dynamicImports: [], isEntry, code: `// ${name}\n`, map: null } as unknown as Rolldown.OutputChunk
}

// index → vue; index lazily → tasks (a route); first-home → button; tasks → table.
function bundle(): Rolldown.OutputBundle {
  const chunks = [
    chunk('index.js', 'index', ['vue.js'], true),
    chunk('vue.js', 'vue', []),
    chunk('first-home.js', 'first-home', ['button.js', 'vue.js']),
    chunk('button.js', 'button', []),
    chunk('tasks.js', 'TasksView', ['table.js', 'vue.js']),
    chunk('table.js', 'table', []),
  ]
  const out: Record<string, unknown> = Object.fromEntries(chunks.map((c) => [c.fileName, c]))
  out['index.css'] = { type: 'asset', fileName: 'index.css', name: 'index.css', source: 'body{}' }
  return out as Rolldown.OutputBundle
}

function run(b: Rolldown.OutputBundle): void {
  const hook = compileHintsPlugin(['first-home']).generateBundle as { handler: (this: unknown, o: unknown, b: Rolldown.OutputBundle) => void }
  hook.handler.call(
    {
      error: (m: string) => {
        throw new Error(m)
      },
    },
    {},
    b,
  )
}

describe('compile hints', () => {
  it('marks the entry, the first screens and what they import, not the routes loaded later', () => {
    expect(
      loadedFirst(bundle(), ['first-home'])
        .map((c) => c.fileName)
        .sort(),
    ).toEqual(['button.js', 'first-home.js', 'index.js', 'vue.js'])
  })

  it('puts the hint on the first line once, however often the build hands a chunk over', () => {
    const b = bundle()
    run(b)
    run(b)
    const code = (file: string) => (b[file] as Rolldown.OutputChunk).code
    expect(code('index.js')).toBe(`${COMPILE_HINT}// index\n`)
    expect(code('button.js').startsWith(COMPILE_HINT)).toBe(true)
    expect(code('tasks.js')).toBe('// TasksView\n')
    expect(code('table.js')).toBe('// table\n')
  })

  it('fails the build rather than shift a source map', () => {
    const b = bundle()
    ;(b['vue.js'] as { map: unknown }).map = { mappings: '' }
    expect(() => run(b)).toThrow(/vue.js has a source map/)
  })
})
