import { describe, expect, it } from 'vitest'
import { toCsv } from './csv'

describe('CSV the console writes', () => {
  it('quotes what needs quoting and starts with a byte-order mark', async () => {
    const blob = toCsv([
      ['Этап', 'Медиана, ч'],
      ['Выезд, ремонт', 2.5],
      ['say "hi"', 0],
    ])
    // the decoder keeps the mark that Blob.text() would drop
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await blob.arrayBuffer())
    expect(text).toBe('\uFEFFЭтап,"Медиана, ч"\r\n"Выезд, ремонт",2.5\r\n"say ""hi""",0\r\n')
  })
})
