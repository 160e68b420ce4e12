// Brotli and gzip copies of the built console, made once at build time so
// the gateway sends them as they are (name.br, name.gz beside name).

import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { Plugin } from 'vite'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

/** Text formats worth compressing; images and woff2 are compressed already. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map|ico|webmanifest)$/
/** Below this the headers cost more than the bytes saved. */
const MIN_SIZE = 1024

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(p)
    else if (entry.isFile()) yield p
  }
}

/**
 * Writes file.br and file.gz beside every compressible file in dir, each
 * only when it is smaller than the file itself. Returns the files written.
 */
export async function precompress(dir: string): Promise<string[]> {
  const written: string[] = []
  for await (const file of files(dir)) {
    if (!COMPRESSIBLE.test(file) || (await stat(file)).size < MIN_SIZE) continue
    const data = await readFile(file)
    const variants: [string, Buffer][] = [
      [
        '.br',
        await brotli(data, {
          params: {
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        }),
      ],
      ['.gz', await gz(data, { level: constants.Z_BEST_COMPRESSION })],
    ]
    for (const [ext, packed] of variants) {
      if (packed.length >= data.length) continue
      await writeFile(file + ext, packed)
      written.push(file + ext)
    }
  }
  return written
}

/** Runs precompress over the output folder once the build has written it. */
export function precompressPlugin(): Plugin {
  let outDir = 'dist'
  return {
    name: 'crm:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir.startsWith('/') ? config.build.outDir : join(config.root, config.build.outDir)
    },
    writeBundle: {
      sequential: true,
      order: 'post',
      async handler() {
        await precompress(outDir)
      },
    },
  }
}
