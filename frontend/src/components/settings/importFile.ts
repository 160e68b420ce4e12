// What the import screen knows of the file format: the columns (their names
// in both languages, exactly as the contract service reads them), the
// template it offers, a row's problems in the reader's words, and why a
// file was refused.

import type { ImportProblem } from '@/api/client'
import { asApiError } from '@/api/errors'
import { LIMITS } from '@/api/limits.gen'
import { describeError } from '@/api/problems'
import type { Translator } from '@/i18n/messages'
import { toCsv } from '@/utils/csv'

export type ImportLocale = 'ru' | 'en'

/** A column of an import file; its header is ru or en, in any case (services/contract/importfile.go). */
export interface ImportColumn {
  key: 'ref' | 'name' | 'kind' | 'phones' | 'email' | 'address' | 'tariff' | 'serviceAddress' | 'status'
  ru: string
  en: string
  required: boolean
}

export const IMPORT_COLUMNS: ImportColumn[] = [
  { key: 'ref', ru: 'Внешний код', en: 'External id', required: false },
  { key: 'name', ru: 'Имя', en: 'Name', required: true },
  { key: 'kind', ru: 'Тип', en: 'Kind', required: false },
  { key: 'phones', ru: 'Телефоны', en: 'Phones', required: true },
  { key: 'email', ru: 'Эл. почта', en: 'Email', required: false },
  { key: 'address', ru: 'Адрес', en: 'Address', required: false },
  { key: 'tariff', ru: 'Тариф', en: 'Tariff', required: false },
  { key: 'serviceAddress', ru: 'Адрес подключения', en: 'Service address', required: false },
  { key: 'status', ru: 'Состояние договора', en: 'Contract status', required: false },
]

/** The template's example row, column by column; the tariff is one the seed makes. */
const EXAMPLE: Record<ImportLocale, Record<ImportColumn['key'], string>> = {
  ru: {
    ref: 'A-1001',
    name: 'Иванов Иван Иванович',
    kind: 'частное лицо',
    phones: '+7 912 345-67-89; 8 495 123-45-67',
    email: 'ivanov@example.ru',
    address: 'Москва, ул. Ленина, д. 1, кв. 2',
    tariff: 'Домашний 100',
    serviceAddress: '',
    status: 'подключить',
  },
  en: {
    ref: 'A-1001',
    name: 'Ivan Ivanov',
    kind: 'person',
    phones: '+7 912 345-67-89; 8 495 123-45-67',
    email: 'ivanov@example.ru',
    address: 'Moscow, Lenina st. 1, apt. 2',
    tariff: 'Home 100',
    serviceAddress: '',
    status: 'connect',
  },
}

export const TEMPLATE_NAME: Record<ImportLocale, string> = { ru: 'импорт-шаблон.csv', en: 'import-template.csv' }

/** The template: UTF-8 with a byte-order mark, comma-separated, the header in locale and one example row. */
export function importTemplate(locale: ImportLocale): Blob {
  return toCsv([IMPORT_COLUMNS.map((c) => c[locale]), IMPORT_COLUMNS.map((c) => EXAMPLE[locale][c.key])])
}

/** Problems whose value is a line or a count the sentence says itself; the others show the value beside. */
const VALUE_IN_TEXT = new Set(['NAME_LONG', 'PHONES_TOO_MANY', 'PHONE_IN_FILE', 'COLUMNS_COUNT', 'REF_SPLIT', 'REF_DIFFERS', 'CUSTOMER_PROBLEM'])

/** The limits the sentences name (the service checks the same ones). */
const MAX: Record<string, number> = {
  NAME_LONG: LIMITS.Customer.name.maxLength,
  ADDRESS_LONG: LIMITS.Customer.address.maxLength,
  PHONES_TOO_MANY: LIMITS.Customer.phones.maxItems,
  SERVICE_ADDRESS_LONG: LIMITS.CreateContractRequest.address.maxLength,
  // a cell of the file (maxCell in services/contract/importfile.go)
  CELL_LONG: 1000,
}

/**
 * A row's problem in the reader's words. The server's sentence (English,
 * for API clients) is said only for a code this console does not know.
 */
export function problemText(tr: Translator, p: ImportProblem): string {
  const code = p.code ?? ''
  // a contract status without a tariff is TARIFF_UNKNOWN with no value
  const key = code === 'TARIFF_UNKNOWN' && !p.value ? 'imports.problems.codes.TARIFF_MISSING' : `imports.problems.codes.${code}`
  if (!code || !tr.te(key)) return p.message || code
  return tr.t(key, { value: p.value ?? '', max: MAX[code] ?? '' })
}

/** The value shown beside the problem: the cell's text, unless the sentence says it already. */
export function problemValue(p: ImportProblem): string {
  return VALUE_IN_TEXT.has(p.code ?? '') ? '' : (p.value ?? '')
}

/** "Имя / Name, Телефоны / Phones" (both languages, as the service lists them) → the reader's names. */
function columnNames(list: string, locale: ImportLocale): string {
  return list
    .split(', ')
    .map((c) => {
      const parts = c.split(' / ')
      return parts.length === 2 ? (locale === 'ru' ? parts[0] : parts[1]) : c
    })
    .join(', ')
}

/** Why a file or a command was refused, in the reader's words; other failures as every call's. */
export function importErrorText(err: unknown, tr: Translator, locale: ImportLocale): string {
  const e = asApiError(err)
  if (e.status === 413 || e.reason === 'IMPORT_TOO_LARGE') {
    const max = Number(e.metadata.maxBytes ?? 0)
    return max > 0 ? tr.t('imports.errors.tooLargeMax', { max: Math.floor(max / 1048576) }) : tr.t('imports.errors.tooLarge')
  }
  // the line the service names in its sentence ("… (line 3) …", "line 3 is not CSV")
  const line = /\bline (\d+)/.exec(e.message)?.[1]
  switch (e.reason) {
    case 'IMPORT_NOT_UTF8':
      return line ? tr.t('imports.errors.notUtf8Line', { line }) : tr.t('imports.errors.notUtf8')
    case 'IMPORT_NOT_CSV':
      return line ? tr.t('imports.errors.notCsvLine', { line }) : tr.t('imports.errors.notCsv')
    case 'IMPORT_EMPTY':
      return tr.t('imports.errors.empty')
    case 'IMPORT_TOO_MANY_ROWS':
      return tr.t('imports.errors.tooManyRows')
    case 'IMPORT_COLUMN_TWICE':
      return tr.t('imports.errors.columnTwice')
    case 'IMPORT_UNKNOWN_COLUMNS':
      return tr.t('imports.errors.unknownColumns', { columns: e.metadata.columns ?? '' })
    case 'IMPORT_MISSING_COLUMNS':
      return tr.t('imports.errors.missingColumns', { columns: columnNames(e.metadata.columns ?? '', locale) })
    case 'IMPORT_STATE':
      // a run refused: only a finished import cannot run (again)
      if (e.metadata.state === 'IMPORT_STATE_DONE') return tr.t('imports.errors.doneAlready')
  }
  return describeError(e, tr.t)
}
