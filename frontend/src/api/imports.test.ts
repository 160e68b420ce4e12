import { describe, expect, it } from 'vitest'
import { bindSession } from '@/api/client'
import { ApiError } from '@/api/errors'
import { chosenFile, mockApi, rpcError } from '@/test/mockApi'
import { cancelImport, checkImport, importFigures, importStateKey, listImportProblems, runImport } from './imports'

const CSV = '\ufeffИмя,Телефоны,Тариф\nИванов Иван,+7 912 345-67-89,Домашний 100\n'

describe('the import calls', () => {
  it('send the file itself as the body, as text/csv whatever the browser calls it, named in the query', async () => {
    bindSession({ token: () => 'tok', ended: () => {} })
    const { calls } = mockApi({
      'POST /api/v1/imports': () =>
        new Response(
          JSON.stringify({ id: '12', fileName: 'база клиентов.csv', state: 'IMPORT_STATE_CHECKED', totalRows: 1, customers: 1, contractsToConnect: 1 }),
          {
            status: 201,
            headers: { 'Content-Type': 'application/json' },
          },
        ),
    })
    // Excel on Windows gives CSV this type; the gateway takes text/csv
    const file = chosenFile(CSV, 'база клиентов.csv', 'application/vnd.ms-excel')
    const imp = await checkImport(file)
    expect(imp).toMatchObject({ id: '12', state: 'IMPORT_STATE_CHECKED', totalRows: 1 })
    const sent = calls[0]!
    expect(sent.method).toBe('POST')
    expect(sent.path).toBe('/api/v1/imports')
    expect([...sent.query]).toEqual([['fileName', 'база клиентов.csv']])
    expect(sent.headers.get('Content-Type')).toBe('text/csv')
    expect(sent.headers.get('Authorization')).toBe('Bearer tok')
    expect(sent.body).toBe(CSV.replace('\ufeff', ''))
  })

  it('throw the server’s refusal of a file as every call’s error', async () => {
    mockApi({
      'POST /api/v1/imports': () =>
        rpcError(400, 3, 'unknown columns "Фамилия"', {
          reason: 'IMPORT_UNKNOWN_COLUMNS',
          metadata: { columns: '"Фамилия"' },
          fields: { file: 'unknown columns' },
        }),
    })
    const err = await checkImport(chosenFile('Фамилия\nИванов\n', 'x.csv')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).reason).toBe('IMPORT_UNKNOWN_COLUMNS')
    expect((err as ApiError).metadata.columns).toBe('"Фамилия"')
  })

  it('page the problems and give run and stop an empty body', async () => {
    const { calls } = mockApi({
      'GET /api/v1/imports/{import_id}/problems': (req) =>
        req.query.get('pageToken') === 'p2'
          ? { problems: [{ line: 9, code: 'NAME_MISSING' }] }
          : { problems: [{ line: 3, code: 'PHONE_INVALID' }], nextPageToken: 'p2' },
      'POST /api/v1/imports/{id}:run': () => ({ id: '12', state: 'IMPORT_STATE_CHECKED' }),
      'POST /api/v1/imports/{id}:cancel': () => ({ id: '12', state: 'IMPORT_STATE_RUNNING' }),
    })
    const first = await listImportProblems('12')
    expect(first).toEqual({ problems: [{ line: 3, code: 'PHONE_INVALID' }], next: 'p2' })
    expect((await listImportProblems('12', first.next)).next).toBe('')
    await runImport('12')
    await cancelImport('12')
    expect(calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.body])).toEqual([
      ['/api/v1/imports/12:run', {}],
      ['/api/v1/imports/12:cancel', {}],
    ])
  })
})

describe('an import’s figures', () => {
  it('read a figure left out of the JSON (zero) as 0 and count the rows a run writes', () => {
    expect(importFigures({ totalRows: 10, problemRows: 3, rowsDone: 5 })).toMatchObject({ total: 10, problems: 3, good: 7, done: 5, percent: 50, asIs: 0 })
    expect(importFigures({})).toMatchObject({ total: 0, good: 0, percent: 0, customersCreated: 0 })
    expect(importStateKey('IMPORT_STATE_CANCELLED')).toBe('cancelled')
    expect(importStateKey(undefined)).toBe('unspecified')
  })
})
