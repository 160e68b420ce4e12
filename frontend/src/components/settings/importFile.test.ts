import { describe, expect, it } from 'vitest'
import type { ImportProblem } from '@/api/client'
import { ApiError } from '@/api/errors'
import en from '@/i18n/en'
import { makeI18n } from '@/i18n/index'
import type { Translator } from '@/i18n/messages'
import { IMPORT_COLUMNS, importErrorText, importTemplate, problemText, problemValue } from './importFile'

function translator(locale: 'ru' | 'en'): Translator {
  const g = makeI18n(locale).global
  if (locale === 'en') g.setLocaleMessage('en', en)
  return { t: (k, p) => g.t(k, p ?? {}), te: (k) => g.te(k) }
}
const ru = translator('ru')
const eng = translator('en')

/** Every code the service words a problem with (proto/crm/contract/v1/import.proto). */
const CODES = [
  'NAME_MISSING',
  'NAME_LONG',
  'KIND_UNKNOWN',
  'EMAIL_INVALID',
  'ADDRESS_LONG',
  'PHONES_MISSING',
  'PHONES_TOO_MANY',
  'PHONE_INVALID',
  'PHONE_LABEL_LONG',
  'PHONE_TWICE',
  'PHONE_IN_FILE',
  'PHONE_TAKEN',
  'TARIFF_UNKNOWN',
  'TARIFF_AMBIGUOUS',
  'TARIFF_KIND',
  'TARIFF_INACTIVE',
  'SERVICE_ADDRESS_MISSING',
  'SERVICE_ADDRESS_LONG',
  'STATUS_UNKNOWN',
  'CELL_LONG',
  'CELL_CONTROL',
  'COLUMNS_COUNT',
  'REF_SPLIT',
  'REF_DIFFERS',
  'CUSTOMER_PROBLEM',
]

const problem = (code: string, value = '', message = `the service's sentence for ${code}`): ImportProblem => ({
  line: 4,
  column: 'Телефоны',
  code,
  value,
  message,
})

describe('a row’s problems', () => {
  it('are worded in both languages for every code, never in the service’s English', () => {
    for (const code of CODES) {
      const inRu = problemText(ru, problem(code, '3'))
      expect(inRu, code).not.toMatch(/service's sentence/)
      expect(inRu, `${code} in Russian has no Latin letters`).not.toMatch(/[A-Za-z]/)
      expect(problemText(eng, problem(code, '3')), code).not.toMatch(/service's sentence|\{/)
    }
  })

  it('say the line or the limit they concern', () => {
    expect(problemText(ru, problem('PHONE_IN_FILE', '7'))).toBe('Этот номер уже есть в строке 7 файла.')
    expect(problemText(eng, problem('REF_SPLIT', '12'))).toBe('The rows of this external id are not together: another one is at line 12.')
    expect(problemText(eng, problem('CUSTOMER_PROBLEM', '5'))).toBe('Skipped with its customer: line 5 has problems.')
    expect(problemText(ru, problem('NAME_LONG', '240'))).toBe('Имя слишком длинное (240): можно не больше 200 символов.')
    expect(problemText(eng, problem('PHONES_TOO_MANY', '12'))).toBe('Too many phones (12): a customer has at most 10.')
    expect(problemText(eng, problem('CELL_LONG'))).toBe('The cell is longer than 1000 characters.')
  })

  it('tell a status without a tariff from an unknown tariff', () => {
    expect(problemText(eng, problem('TARIFF_UNKNOWN', 'Гигабит'))).toBe('No such tariff.')
    expect(problemText(eng, problem('TARIFF_UNKNOWN', ''))).toBe('A contract status is given without a tariff.')
    expect(problemText(ru, problem('TARIFF_AMBIGUOUS', 'Домашний'))).toBe('Так называются несколько тарифов: укажите идентификатор тарифа.')
  })

  it('show the value beside unless the sentence says it, and the service’s sentence for a code unknown here', () => {
    expect(problemValue(problem('PHONE_INVALID', '12-34'))).toBe('12-34')
    expect(problemValue(problem('TARIFF_UNKNOWN', 'Гигабит'))).toBe('Гигабит')
    expect(problemValue(problem('PHONE_IN_FILE', '7'))).toBe('')
    expect(problemValue({ line: 2, code: 'PHONE_TAKEN' })).toBe('')
    expect(problemText(ru, problem('SOMETHING_NEW', 'x', 'a newer server says so'))).toBe('a newer server says so')
  })
})

describe('a refused file', () => {
  const refusal = (reason: string, message: string, metadata: Record<string, string> = {}, status = 400) =>
    new ApiError({ status, code: 3, message, reason, metadata })

  it('is said in the reader’s words', () => {
    expect(importErrorText(refusal('IMPORT_NOT_UTF8', 'the file is not UTF-8 text (line 3): save it as CSV UTF-8'), ru, 'ru')).toBe(
      'Файл не в кодировке UTF-8 (строка 3): сохраните его как «CSV UTF-8».',
    )
    expect(importErrorText(refusal('IMPORT_MISSING_COLUMNS', 'the file lacks…', { columns: 'Имя / Name, Телефоны / Phones' }), ru, 'ru')).toBe(
      'В файле нет столбцов Имя, Телефоны.',
    )
    expect(importErrorText(refusal('IMPORT_MISSING_COLUMNS', 'the file lacks…', { columns: 'Имя / Name' }), eng, 'en')).toBe('The file lacks the columns Name.')
    expect(importErrorText(refusal('IMPORT_UNKNOWN_COLUMNS', 'unknown…', { columns: '"Фамилия"' }), eng, 'en')).toBe(
      'Unknown columns "Фамилия": name them as the template does.',
    )
    expect(importErrorText(refusal('IMPORT_TOO_LARGE', 'too large', { maxBytes: String(50 << 20) }, 413), eng, 'en')).toBe(
      'The file is larger than 50 MB, the most an import may be: split it.',
    )
    expect(importErrorText(new ApiError({ status: 413, code: 0, message: 'HTTP 413' }), ru, 'ru')).toBe('Файл слишком большой для импорта: разделите его.')
    expect(importErrorText(refusal('IMPORT_STATE', 'import 4 is done already', { state: 'IMPORT_STATE_DONE' }, 409), eng, 'en')).toBe(
      'The import is done already.',
    )
  })

  it('is said as every call’s error when the reason is none of the file’s', () => {
    expect(importErrorText(new ApiError({ status: 0, code: 14, message: 'Failed to fetch' }), eng, 'en')).toBe(
      'The server cannot be reached. Check the connection and try again.',
    )
    expect(importErrorText(new ApiError({ status: 400, code: 3, message: 'send the file itself as the body, as text/csv' }), eng, 'en')).toBe(
      'send the file itself as the body, as text/csv',
    )
  })
})

describe('the template', () => {
  async function bytes(b: Blob): Promise<Uint8Array> {
    return new Uint8Array(await b.arrayBuffer())
  }

  it('is UTF-8 with a byte-order mark, comma-separated, the header in the console’s language and one example row', async () => {
    const b = await bytes(importTemplate('ru'))
    expect([...b.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const lines = new TextDecoder('utf-8', { ignoreBOM: true }).decode(b.slice(3)).split('\r\n')
    expect(lines[0]).toBe('Внешний код,Имя,Тип,Телефоны,Эл. почта,Адрес,Тариф,Адрес подключения,Состояние договора')
    // the phones hold a ";", the address commas: quoted
    expect(lines[1]).toBe(
      'A-1001,Иванов Иван Иванович,частное лицо,+7 912 345-67-89; 8 495 123-45-67,ivanov@example.ru,"Москва, ул. Ленина, д. 1, кв. 2",Домашний 100,,подключить',
    )
    expect(lines.slice(2)).toEqual([''])
  })

  it('names the columns in English for an English reader, as the service reads them', async () => {
    const text = new TextDecoder().decode(await bytes(importTemplate('en')))
    const [header, example] = text.split('\r\n')
    expect(header).toBe(IMPORT_COLUMNS.map((c) => c.en).join(','))
    expect(header).toBe('External id,Name,Kind,Phones,Email,Address,Tariff,Service address,Contract status')
    expect(example).toContain(',person,')
    expect(example).toMatch(/,connect$/)
  })
})
