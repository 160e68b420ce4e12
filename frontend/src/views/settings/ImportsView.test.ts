import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Import, ImportProblem } from '@/api/client'
import { IMPORT_POLL_MS } from '@/api/imports'
import { useAuthStore } from '@/stores/auth'
import { asked } from '@/test/confirmYes'
import { ADMIN_ME, chosenFile, mockApi, rpcError } from '@/test/mockApi'
import { makeTestPinia, makeTestRouter, mountWith } from '@/test/mount'
import ImportsView from './ImportsView.vue'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))
const toasts = vi.hoisted(() => [] as { summary?: string }[])
vi.mock('primevue/usetoast', () => ({ useToast: () => ({ add: (m: { summary?: string }) => toasts.push(m) }) }))
const saved = vi.hoisted(() => [] as { name: string; blob: Blob }[])
vi.mock('@/api/raw', async (orig) => ({ ...(await orig<object>()), saveBlob: (blob: Blob, name: string) => saved.push({ name, blob }) }))

const ME = { ...ADMIN_ME, permissions: [...ADMIN_ME.permissions, 'imports.run'] }
const created = new Date(Date.now() - 3600_000).toISOString()

/** An import as the service answers it: zero figures left out. */
function imp(id: string, state: Import['state'], extra: Partial<Import> = {}): Import {
  return {
    id,
    fileName: `base-${id}.csv`,
    state,
    totalRows: 10,
    problemRows: 3,
    customers: 6,
    contractsToConnect: 2,
    contractsAsIs: 4,
    createTime: created,
    ...extra,
  }
}

const PROBLEMS: ImportProblem[] = [
  { line: 3, column: 'Телефоны', code: 'PHONE_INVALID', value: '12-34', message: '"12-34" is not a phone number' },
  { line: 5, column: 'Тариф', code: 'TARIFF_UNKNOWN', value: 'Гигабит', message: 'there is no tariff "Гигабит"' },
  { line: 6, column: '', code: 'CUSTOMER_PROBLEM', value: '5', message: "the customer's row at line 5 has problems" },
]

/** The imports the stand-in holds; a GET of one answers its next state, the last one again and again. */
function server(states: Record<string, Import[]>, routes: Parameters<typeof mockApi>[0] = {}) {
  const reads: Record<string, number> = {}
  const api = mockApi({
    'GET /api/v1/auth/me': () => ME,
    'GET /api/v1/imports': () => ({ imports: Object.values(states).map((s) => s[0]) }),
    'GET /api/v1/imports/{id}': (_req, { id }) => {
      const list = states[id!]
      if (!list) return rpcError(404, 5, 'no such import')
      const n = (reads[id!] = (reads[id!] ?? 0) + 1)
      return list[Math.min(n - 1, list.length - 1)]
    },
    'GET /api/v1/imports/{import_id}/problems': (req) =>
      req.query.get('pageToken') === 'p2' ? { problems: PROBLEMS.slice(2) } : { problems: PROBLEMS.slice(0, 2), nextPageToken: 'p2' },
    ...routes,
  })
  return { ...api, reads: (id: string) => api.calls.filter((c) => c.method === 'GET' && c.path === `/api/v1/imports/${id}`).length }
}

async function open(path = '/settings/imports') {
  const pinia = makeTestPinia()
  await useAuthStore().ensureMe()
  const router = makeTestRouter()
  await router.push(path)
  const { wrapper } = mountWith(ImportsView, { pinia, router })
  await vi.waitFor(() => expect(wrapper.find('[data-testid=import-list-table]').exists()).toBe(true))
  return { wrapper, router }
}

const has = (w: { find: (s: string) => { exists: () => boolean } }, id: string) => w.find(`[data-testid=${id}]`).exists()

describe('the import screen', () => {
  afterEach(() => {
    toasts.length = 0
    asked.length = 0
  })

  it('sends a chosen file as it is, named in the query, and shows the check with its problems in words', async () => {
    const checked = imp('12', 'IMPORT_STATE_CHECKED')
    const { calls } = server({ '12': [checked] }, { 'POST /api/v1/imports': () => checked })
    const { wrapper, router } = await open()
    expect(wrapper.text()).toContain('Check a file or pick an import from the list.')

    const csv = 'Name,Phones,Tariff\nIvan Ivanov,+7 912 345-67-89,Home 100\n'
    const input = wrapper.get<HTMLInputElement>('[data-testid=import-file]')
    Object.defineProperty(input.element, 'files', { value: [chosenFile(csv, 'base-12.csv', '')], configurable: true })
    await input.trigger('change')

    await vi.waitFor(() => expect(has(wrapper, 'import-card')).toBe(true))
    const upload = calls.find((c) => c.method === 'POST')!
    expect(upload.path).toBe('/api/v1/imports')
    expect(upload.query.get('fileName')).toBe('base-12.csv')
    expect(upload.headers.get('Content-Type')).toBe('text/csv')
    expect(upload.body).toBe(csv)
    expect(wrapper.get('[data-testid=import-upload-status]').text()).toBe('“base-12.csv” checked — rows: 10, with problems: 3.')
    await vi.waitFor(() => expect(router.currentRoute.value.query.id).toBe('12'))
    // on a phone the card is below the upload: the reader is taken to it
    await vi.waitFor(() => expect(document.activeElement?.id).toBe('import-card-title'))

    expect(wrapper.get('[data-testid=import-total]').text()).toBe('10')
    expect(wrapper.get('[data-testid=import-problem-rows]').text()).toBe('3')
    expect(wrapper.get('[data-testid=import-to-connect]').text()).toBe('2')
    expect(wrapper.get('[data-testid=import-state]').text()).toBe('Checked')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=problem-text]')).toHaveLength(2))
    expect(wrapper.findAll('[data-testid=problem-text]').map((p) => p.text())).toEqual(['Not a phone number.', 'No such tariff.'])
    expect(wrapper.findAll('[data-testid=problem-value]').map((p) => p.text())).toEqual(['12-34', 'Гигабит'])
    expect(wrapper.findAll('[data-testid=problem-line]').map((p) => p.text())).toEqual(['3', '5'])

    await wrapper.get('[data-testid=import-problems-more]').trigger('click')
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=problem-text]')).toHaveLength(3))
    expect(wrapper.findAll('[data-testid=problem-text]')[2]!.text()).toBe('Skipped with its customer: line 5 has problems.')
    expect(wrapper.text()).toContain('the whole row')
    expect(has(wrapper, 'import-problems-more')).toBe(false)
    // the file just checked is shown from the answer, not read again
    expect(calls.filter((c) => c.path === '/api/v1/imports/12')).toHaveLength(0)
    wrapper.unmount()
  })

  it('says why a file was refused, in the reader’s words', async () => {
    server(
      {},
      {
        'POST /api/v1/imports': () =>
          rpcError(400, 3, 'the file lacks the columns Телефоны / Phones', { reason: 'IMPORT_MISSING_COLUMNS', metadata: { columns: 'Телефоны / Phones' } }),
      },
    )
    const { wrapper, router } = await open()
    const input = wrapper.get<HTMLInputElement>('[data-testid=import-file]')
    Object.defineProperty(input.element, 'files', { value: [chosenFile('Name\nIvan\n', 'no-phones.csv')], configurable: true })
    await input.trigger('change')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=import-upload-error]').exists()).toBe(true))
    expect(wrapper.get('[data-testid=import-upload-error]').text()).toBe('The file lacks the columns Phones.')
    expect(router.currentRoute.value.query.id).toBeUndefined()
    wrapper.unmount()
  })

  it('offers the command each state allows', async () => {
    server({
      '1': [imp('1', 'IMPORT_STATE_CHECKED')],
      '2': [imp('2', 'IMPORT_STATE_RUNNING', { rowsDone: 4, startTime: created })],
      '3': [imp('3', 'IMPORT_STATE_FAILED', { rowsDone: 4, error: 'the customer service is unavailable', startTime: created, finishTime: created })],
      '4': [imp('4', 'IMPORT_STATE_CANCELLED', { rowsDone: 4, finishTime: created })],
      '5': [imp('5', 'IMPORT_STATE_DONE', { rowsDone: 10, customersCreated: 6, contractsCreated: 6, finishTime: created })],
      '6': [imp('6', 'IMPORT_STATE_CHECKED', { problemRows: 10 })],
    })
    const buttons = (w: Awaited<ReturnType<typeof open>>['wrapper']) => ['import-run', 'import-resume', 'import-stop'].filter((id) => has(w, id))
    const expected: Record<string, string[]> = {
      '1': ['import-run'],
      '2': ['import-stop'],
      '3': ['import-resume'],
      '4': ['import-resume'],
      '5': [],
      '6': ['import-run'],
    }
    for (const [id, want] of Object.entries(expected)) {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
      const { wrapper } = await open(`/settings/imports?id=${id}`)
      await vi.waitFor(() => expect(has(wrapper, 'import-card')).toBe(true))
      expect(buttons(wrapper), `import ${id}`).toEqual(want)
      if (id === '1') expect(wrapper.get('[data-testid=import-run]').text()).toBe('Import 7 rows')
      if (id === '2') expect(wrapper.get('[data-testid=import-progress-text]').text()).toBe('4 of 10 rows')
      if (id === '3') expect(wrapper.get('[data-testid=import-error]').text()).toContain('the customer service is unavailable')
      if (id === '5') expect(wrapper.get('[data-testid=import-done]').text()).toBe('Done: 6 customers and 6 contracts created.')
      if (id === '6') expect(wrapper.get('[data-testid=import-run]').attributes('disabled')).toBeDefined()
      wrapper.unmount()
      vi.useRealTimers()
    }
    // six screens mounted one after another: more than the default 5 s on
    // a busy machine
  }, 20_000)

  it('asks before importing, then follows the run every second and stops once it is done', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { calls, reads } = server(
      {
        '7': [
          imp('7', 'IMPORT_STATE_CHECKED'),
          // the run's workflow has not marked it yet
          imp('7', 'IMPORT_STATE_CHECKED'),
          imp('7', 'IMPORT_STATE_RUNNING', { rowsDone: 5, customersCreated: 3, startTime: created }),
          imp('7', 'IMPORT_STATE_DONE', { rowsDone: 10, customersCreated: 6, contractsCreated: 6, startTime: created, finishTime: created }),
        ],
      },
      { 'POST /api/v1/imports/{id}:run': () => imp('7', 'IMPORT_STATE_CHECKED') },
    )
    const { wrapper } = await open('/settings/imports?id=7')
    await vi.waitFor(() => expect(has(wrapper, 'import-run')).toBe(true))
    expect(reads('7')).toBe(1)
    // nothing runs: nothing is followed
    await vi.advanceTimersByTimeAsync(3 * IMPORT_POLL_MS)
    expect(reads('7')).toBe(1)

    await wrapper.get('[data-testid=import-run]').trigger('click')
    await vi.waitFor(() => expect(calls.some((c) => c.path === '/api/v1/imports/7:run')).toBe(true))
    expect(asked.at(-1)?.message).toBe(
      'Import 7 rows from “base-7.csv”? 3 rows with problems will be skipped. 2 contracts will get a connection task. 4 contracts will be written as they stand.',
    )
    expect(calls.find((c) => c.path === '/api/v1/imports/7:run')?.body).toEqual({})
    await vi.waitFor(() => expect(has(wrapper, 'import-starting')).toBe(true))

    await vi.advanceTimersByTimeAsync(IMPORT_POLL_MS)
    await vi.waitFor(() => expect(reads('7')).toBe(2))
    expect(has(wrapper, 'import-starting')).toBe(true)
    await vi.advanceTimersByTimeAsync(IMPORT_POLL_MS)
    await vi.waitFor(() => expect(wrapper.get('[data-testid=import-state]').text()).toBe('Importing'))
    expect(wrapper.get('[data-testid=import-progress-text]').text()).toBe('5 of 10 rows')
    expect(wrapper.get('[data-testid=import-progress]').attributes('aria-valuenow')).toBe('50')
    expect(has(wrapper, 'import-stop')).toBe(true)

    const problemReads = () => calls.filter((c) => c.path === '/api/v1/imports/7/problems').length
    const before = problemReads()
    await vi.advanceTimersByTimeAsync(IMPORT_POLL_MS)
    await vi.waitFor(() => expect(wrapper.get('[data-testid=import-state]').text()).toBe('Done'))
    expect(wrapper.get('[data-testid=import-customers-created]').text()).toBe('6')
    expect(buttons()).toEqual([])
    // what the run found since the check is listed
    await vi.waitFor(() => expect(problemReads()).toBe(before + 1))

    const done = reads('7')
    expect(vi.getTimerCount(), 'no reading once done').toBe(0)
    await vi.advanceTimersByTimeAsync(10 * IMPORT_POLL_MS)
    expect(reads('7')).toBe(done)
    wrapper.unmount()

    function buttons() {
      return ['import-run', 'import-resume', 'import-stop', 'import-starting'].filter((id) => has(wrapper, id))
    }
  })

  it('stops a run after its batch, saying so until it has stopped, and resumes it without asking', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { calls } = server(
      {
        '8': [
          imp('8', 'IMPORT_STATE_RUNNING', { rowsDone: 2 }),
          imp('8', 'IMPORT_STATE_RUNNING', { rowsDone: 4 }),
          imp('8', 'IMPORT_STATE_CANCELLED', { rowsDone: 4, finishTime: created }),
        ],
      },
      {
        'POST /api/v1/imports/{id}:cancel': () => imp('8', 'IMPORT_STATE_RUNNING', { rowsDone: 2 }),
        'POST /api/v1/imports/{id}:run': () => imp('8', 'IMPORT_STATE_RUNNING', { rowsDone: 4 }),
      },
    )
    const { wrapper } = await open('/settings/imports?id=8')
    await vi.waitFor(() => expect(has(wrapper, 'import-stop')).toBe(true))
    await wrapper.get('[data-testid=import-stop]').trigger('click')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=import-stop]').text()).toBe('Stopping…'))
    expect(calls.find((c) => c.path === '/api/v1/imports/8:cancel')?.body).toEqual({})
    expect(wrapper.get('[data-testid=import-stop]').attributes('disabled')).toBeDefined()
    await vi.advanceTimersByTimeAsync(IMPORT_POLL_MS)
    await vi.advanceTimersByTimeAsync(IMPORT_POLL_MS)
    await vi.waitFor(() => expect(has(wrapper, 'import-resume')).toBe(true))
    expect(wrapper.text()).toContain('Stopped after 4 of 10 rows.')

    const confirmations = asked.length
    await wrapper.get('[data-testid=import-resume]').trigger('click')
    await vi.waitFor(() => expect(calls.some((c) => c.path === '/api/v1/imports/8:run')).toBe(true))
    expect(asked.length).toBe(confirmations)
    await vi.waitFor(() => expect(has(wrapper, 'import-stop')).toBe(true))
    wrapper.unmount()
  })

  it('stops following a running import when the screen closes', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { reads } = server({ '9': [imp('9', 'IMPORT_STATE_RUNNING', { rowsDone: 1 })] })
    const { wrapper } = await open('/settings/imports?id=9')
    await vi.waitFor(() => expect(has(wrapper, 'import-stop')).toBe(true))
    await vi.advanceTimersByTimeAsync(2 * IMPORT_POLL_MS)
    await vi.waitFor(() => expect(reads('9')).toBeGreaterThanOrEqual(3))
    expect(vi.getTimerCount(), 'the screen reads it every second').toBe(1)
    wrapper.unmount()
    await flushPromises()
    expect(vi.getTimerCount(), 'no reading left behind').toBe(0)
    const after = reads('9')
    await vi.advanceTimersByTimeAsync(5 * IMPORT_POLL_MS)
    expect(reads('9')).toBe(after)
  })

  it('keeps the import shown in the address and opens another from the list', async () => {
    server({ '10': [imp('10', 'IMPORT_STATE_DONE', { rowsDone: 10 })], '11': [imp('11', 'IMPORT_STATE_CHECKED')] })
    const { wrapper, router } = await open('/settings/imports?id=10')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=import-file-name]').text()).toBe('base-10.csv'))
    const links = wrapper.findAll('[data-testid=import-link]')
    expect(links.map((l) => l.text())).toEqual(['base-10.csv', 'base-11.csv'])
    expect(links[0]!.attributes('aria-current')).toBe('true')
    await links[1]!.trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.query.id).toBe('11'))
    await vi.waitFor(() => expect(wrapper.get('[data-testid=import-file-name]').text()).toBe('base-11.csv'))
    expect(has(wrapper, 'import-run')).toBe(true)
    wrapper.unmount()
  })

  it('says when the import in the address does not exist', async () => {
    server({})
    const { wrapper } = await open('/settings/imports?id=404')
    await vi.waitFor(() => expect(wrapper.text()).toContain('No such import'))
    wrapper.unmount()
  })

  it('downloads the template with the header in the console’s language', async () => {
    server({})
    const { wrapper } = await open()
    await wrapper.get('[data-testid=import-template]').trigger('click')
    expect(saved.at(-1)!.name).toBe('import-template.csv')
    const text = new TextDecoder().decode(await saved.at(-1)!.blob.arrayBuffer())
    expect(text.split('\r\n')[0]).toBe('External id,Name,Kind,Phones,Email,Address,Tariff,Service address,Contract status')
    expect(text.split('\r\n')).toHaveLength(3)
    wrapper.unmount()
  })
})
