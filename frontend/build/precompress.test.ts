import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { precompress } from './precompress'

let dir = ''
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('precompress', () => {
  it('writes brotli and gzip copies that unpack to the file, for text files worth it only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'precompress-'))
    await mkdir(join(dir, 'assets'))
    const js = 'export const greeting = "Здравствуйте";\n'.repeat(200)
    await writeFile(join(dir, 'assets', 'index-abc.js'), js)
    await writeFile(join(dir, 'index.html'), '<!doctype html>'.repeat(100))
    await writeFile(join(dir, 'assets', 'tiny.js'), 'export {}')
    await writeFile(join(dir, 'assets', 'font.woff2'), Buffer.alloc(4096, 7))

    const written = await precompress(dir)

    expect(written.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['assets/index-abc.js.br', 'assets/index-abc.js.gz', 'index.html.br', 'index.html.gz'])
    expect(brotliDecompressSync(await readFile(join(dir, 'assets', 'index-abc.js.br'))).toString()).toBe(js)
    expect(gunzipSync(await readFile(join(dir, 'assets', 'index-abc.js.gz'))).toString()).toBe(js)
    expect((await readFile(join(dir, 'assets', 'index-abc.js.br'))).length).toBeLessThan(js.length / 10)
    expect((await readdir(join(dir, 'assets'))).sort()).toEqual(['font.woff2', 'index-abc.js', 'index-abc.js.br', 'index-abc.js.gz', 'tiny.js'])
  })

  it('skips a copy that would not be smaller', async () => {
    dir = await mkdtemp(join(tmpdir(), 'precompress-'))
    // Random bytes do not compress.
    const noise = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(Math.random() * 256)))
    await writeFile(join(dir, 'noise.json'), noise)
    expect(await precompress(dir)).toEqual([])
  })
})
