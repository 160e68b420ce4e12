// V8 compiles a function the first time it is called, on the main thread,
// unless it knows the function will run while the page loads: then it
// compiles it with the rest of its file, on a background thread while the
// file streams in. The first screens run most of what their files hold (the
// framework, the router, the shell and the page), and compiling it on first
// call was a third of the home's first render on a phone. The build marks
// those files with Chrome's compile hint (a first line
// `//# allFunctionsCalledOnLoad`); other browsers read a comment.

import type { Plugin, Rolldown } from 'vite'

export const COMPILE_HINT = '//# allFunctionsCalledOnLoad\n'

/** The chunks a first screen runs as it loads: the entry's, the named ones, and every chunk they import statically. */
export function loadedFirst(bundle: Rolldown.OutputBundle, names: readonly string[]): Rolldown.OutputChunk[] {
  const chunks = Object.values(bundle).filter((c): c is Rolldown.OutputChunk => c.type === 'chunk')
  const byFile = new Map(chunks.map((c) => [c.fileName, c]))
  const todo = chunks.filter((c) => c.isEntry || names.includes(c.name))
  const seen = new Set<Rolldown.OutputChunk>()
  while (todo.length > 0) {
    const chunk = todo.pop() as Rolldown.OutputChunk
    if (seen.has(chunk)) continue
    seen.add(chunk)
    for (const file of chunk.imports) {
      const next = byFile.get(file)
      if (next) todo.push(next)
    }
  }
  return [...seen]
}

/** Puts the compile hint on the chunks the first screens (names) run as they load. */
export function compileHintsPlugin(names: readonly string[]): Plugin {
  return {
    name: 'crm:compile-hints',
    apply: 'build',
    generateBundle: {
      // After Vite's own, which puts the entry's dependency map in front: the
      // hint counts only on the file's first line.
      order: 'post',
      handler(_options, bundle) {
        for (const chunk of loadedFirst(bundle, names)) {
          // A line put in front would shift a source map's lines; the console ships none.
          if (chunk.map) this.error(`compileHints: ${chunk.fileName} has a source map the hint would shift`)
          if (!chunk.code.startsWith(COMPILE_HINT)) chunk.code = COMPILE_HINT + chunk.code
        }
      },
    },
  }
}
