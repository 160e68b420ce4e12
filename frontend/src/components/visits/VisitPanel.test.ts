import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Task, Visit } from '@/api/client'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import VisitPanel from './VisitPanel.vue'
import { localDate, localInstant } from './zone'

const TOMORROW = localDate(Date.now() + 86_400_000)
const INSTALLATION = { id: '13', name: 'Installation', groupId: '3', position: 3, visit: true }
const WAITING: Task = {
  id: '9',
  number: 'T-000009',
  title: 'Connect C-000003',
  state: 'TASK_STATE_OPEN',
  currentProcess: INSTALLATION,
  contractId: '3',
  awaitingVisit: true,
}
const VISIT: Visit = {
  id: '4',
  taskId: '9',
  taskNumber: 'T-000009',
  processId: '13',
  groupId: '3',
  state: 'VISIT_STATE_BOOKED',
  startTime: new Date(localInstant(TOMORROW, 600)).toISOString(),
  endTime: new Date(localInstant(TOMORROW, 720)).toISOString(),
  technicians: [
    { userId: '7', name: 'Ivan Installer' },
    { userId: '21', name: 'Olga Fitter' },
  ],
  address: 'Arbat 10, apt 5',
  mapUrl: 'https://yandex.ru/maps/?text=Arbat%2010',
  note: 'Call an hour before',
  late: true,
  customerPhone: '+79161234567',
}
const BOOKED: Task = { ...WAITING, awaitingVisit: false, visit: VISIT }
const MEMBERS = {
  members: [
    { id: '7', login: 'ivan', displayName: 'Ivan Installer', active: true },
    { id: '21', login: 'olga', displayName: 'Olga Fitter', active: true },
  ],
}

function api(me: object, extra: Record<string, Parameters<typeof mockApi>[0][string]> = {}) {
  return mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/groups/{group_id}/members': () => MEMBERS,
    'GET /api/v1/contracts/{id}': () => ({ id: '3', address: 'Arbat 10, apt 5' }),
    ...extra,
  })
}

const dialog = (id = 'visit-book-dialog') => document.body.querySelector<HTMLElement>(`[data-testid=${id}]`)

async function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

async function fill(sel: string, value: string) {
  await type(dialog()!.querySelector<HTMLInputElement>(`[data-testid=${sel}]`)!, value)
}

/** Opens the technicians' list and picks the one named. */
async function pickTechnician(name: string) {
  await vi.waitFor(() => expect(dialog()?.querySelector('[data-testid=visit-technicians] [data-pc-section=loadingicon]')).toBeNull())
  dialog()!.querySelector<HTMLElement>('[data-testid=visit-technicians]')!.click()
  const option = await vi.waitFor(() => {
    const o = [...document.body.querySelectorAll<HTMLElement>('[role=option]')].find((el) => el.textContent?.includes(name))
    expect(o).toBeDefined()
    return o!
  })
  option.click()
  await flushPromises()
}

/** Waits for an element inside the open dialog. */
function inDialog<T extends HTMLElement>(sel: string, id?: string): Promise<T> {
  return vi.waitFor(() => {
    const el = dialog(id)?.querySelector<T>(sel)
    expect(el, sel).toBeTruthy()
    return el!
  })
}

const submit = () => dialog()!.querySelector('form')!.dispatchEvent(new Event('submit'))

describe('the task’s visit panel', () => {
  it('shows the booked window, technicians, address with its map, note, state and lateness, and a viewer no command', async () => {
    api(VIEWER_ME)
    const { wrapper } = mountWith(VisitPanel, { props: { task: BOOKED }, pinia: await signedIn() })
    expect(wrapper.get('[data-testid=visit-window]').text()).toMatch(/10:00/)
    expect(wrapper.get('[data-testid=visit-window]').text()).toMatch(/12:00/)
    expect(wrapper.get('[data-testid=visit-technicians]').text()).toContain('Ivan Installer, Olga Fitter')
    expect(wrapper.get('[data-testid=visit-address]').text()).toContain('Arbat 10, apt 5')
    expect(wrapper.get('[data-testid=visit-map]').attributes()).toMatchObject({ href: VISIT.mapUrl, target: '_blank', rel: 'noopener' })
    expect(wrapper.get('[data-testid=visit-note]').text()).toBe('Call an hour before')
    expect(wrapper.get('[data-testid=visit-state]').text()).toBe('Booked')
    expect(wrapper.find('[data-testid=visit-late]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=visit-dispatch]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=visit-reports]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('books a waiting task for a member of the group: the window, a technician, the contract’s address, the process seen', async () => {
    const { calls } = api(memberMe(['3']), { 'POST /api/v1/tasks/{task_id}:bookVisit': () => VISIT })
    const { wrapper } = mountWith(VisitPanel, { props: { task: WAITING }, pinia: await signedIn() })
    expect(wrapper.get('[data-testid=visit-none]').text()).toContain('“Installation” is worked at the customer’s address')
    expect(wrapper.find('[data-testid=visit-rebook]').exists()).toBe(false)
    await wrapper.get('[data-testid=visit-book]').trigger('click')
    await vi.waitFor(() => expect(dialog()?.querySelector<HTMLTextAreaElement>('[data-testid=visit-address]')?.value).toBe('Arbat 10, apt 5'))
    await fill('visit-date', TOMORROW)
    await fill('visit-start', '10:00')
    await fill('visit-end', '12:00')
    await pickTechnician('Olga Fitter')
    await fill('visit-note', 'Call an hour before')
    submit()
    await vi.waitFor(() => expect(wrapper.emitted('changed')?.[0]?.[0]).toMatchObject({ id: '4' }))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({
      path: '/api/v1/tasks/9:bookVisit',
      body: {
        startTime: new Date(localInstant(TOMORROW, 600)).toISOString(),
        endTime: new Date(localInstant(TOMORROW, 720)).toISOString(),
        technicianIds: ['21'],
        address: 'Arbat 10, apt 5',
        note: 'Call an hour before',
        processId: '13',
      },
    })
    wrapper.unmount()
  })

  it('asks for a technician and a window that ends after it starts before sending anything', async () => {
    const { calls } = api(memberMe(['3']))
    const { wrapper } = mountWith(VisitPanel, { props: { task: WAITING }, pinia: await signedIn() })
    await wrapper.get('[data-testid=visit-book]').trigger('click')
    await inDialog('form')
    await fill('visit-date', TOMORROW)
    await fill('visit-start', '12:00')
    await fill('visit-end', '11:00')
    submit()
    await vi.waitFor(() => expect(dialog()!.textContent).toContain('Choose at least one technician.'))
    expect(dialog()!.textContent).toContain('The window ends after it starts.')
    expect(calls.filter((c) => c.method === 'POST')).toEqual([])
    wrapper.unmount()
  })

  it('lets a supervisor book outside working time anyway, resending with override', async () => {
    const { calls } = api(ADMIN_ME, {
      'POST /api/v1/tasks/{task_id}:bookVisit': (req) =>
        (req.body as { override?: boolean }).override
          ? VISIT
          : rpcError(400, 3, 'Olga Fitter is outside working time: the working hours are 09:00–18:00 (Europe/Moscow)', { reason: 'OUTSIDE_WORKING_TIME' }),
    })
    const { wrapper } = mountWith(VisitPanel, { props: { task: WAITING }, pinia: await signedIn() })
    await wrapper.get('[data-testid=visit-book]').trigger('click')
    await inDialog('form')
    await fill('visit-date', TOMORROW)
    await fill('visit-start', '19:00')
    await fill('visit-end', '21:00')
    await pickTechnician('Olga Fitter')
    submit()
    const anyway = await inDialog('[data-testid=visit-book-anyway]')
    expect(dialog()!.querySelector('[data-testid=visit-book-overridable]')!.textContent).toContain('Outside working time')
    anyway.click()
    await vi.waitFor(() => expect(wrapper.emitted('changed')).toHaveLength(1))
    expect(calls.filter((c) => c.method === 'POST').map((c) => (c.body as { override?: boolean }).override)).toEqual([undefined, true])
    wrapper.unmount()
  })

  it('reads the group’s working time and the day’s visits, and warns of a clash before sending', async () => {
    const other: Visit = { ...VISIT, id: '8', taskId: '31', taskNumber: 'T-000031', technicians: [{ userId: '21', name: 'Olga Fitter' }], late: false }
    const { calls } = api(ADMIN_ME, {
      'GET /api/v1/groups/{group_id}/schedule': () => ({
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5, 6, 7] },
      }),
      'GET /api/v1/visits': () => ({ visits: [other] }),
      'POST /api/v1/tasks/{task_id}:bookVisit': (req) =>
        (req.body as { override?: boolean }).override
          ? VISIT
          : rpcError(400, 3, 'Olga Fitter is outside working time: the working hours are 09:00–18:00', { reason: 'OUTSIDE_WORKING_TIME' }),
    })
    const { wrapper } = mountWith(VisitPanel, { props: { task: WAITING }, pinia: await signedIn() })
    await wrapper.get('[data-testid=visit-book]').trigger('click')
    await inDialog('form')
    await fill('visit-date', TOMORROW)
    await fill('visit-start', '11:00')
    await fill('visit-end', '13:00')
    await pickTechnician('Olga Fitter')
    await vi.waitFor(() =>
      expect(dialog()!.querySelector('[data-testid=visit-book-conflict]')?.textContent).toContain('Olga Fitter has another visit then: T-000031'),
    )
    const list = calls.filter((c) => c.path === '/api/v1/visits').at(-1)!
    expect(list.query.get('groupId')).toBe('3')
    expect(list.query.get('from')).toBe(new Date(localInstant(TOMORROW, 0)).toISOString())

    // Outside working time: the reason in the reader's words, not the server's.
    await fill('visit-start', '19:00')
    await fill('visit-end', '20:00')
    submit()
    const box = await inDialog('[data-testid=visit-book-overridable]')
    expect(box.textContent).toContain('Outside the working hours of Olga Fitter.')
    expect(box.textContent).not.toContain('the working hours are')
    expect(dialog()!.querySelector('[data-testid=visit-book-conflict]')).toBeNull()
    wrapper.unmount()
  })

  it('tells a member over a technician’s limit to ask a supervisor, and names the task a clash is with', async () => {
    let answer = rpcError(400, 3, 'Olga Fitter already has 4 visits on 2026-05-12, the most a day', { reason: 'OVER_CAPACITY' })
    api(memberMe(['3']), { 'POST /api/v1/tasks/{task_id}:bookVisit': () => answer })
    const { wrapper } = mountWith(VisitPanel, { props: { task: WAITING }, pinia: await signedIn() })
    await wrapper.get('[data-testid=visit-book]').trigger('click')
    await inDialog('form')
    await fill('visit-date', TOMORROW)
    await fill('visit-start', '10:00')
    await fill('visit-end', '12:00')
    await pickTechnician('Olga Fitter')
    submit()
    await vi.waitFor(() => expect(dialog()!.querySelector('[data-testid=visit-book-overridable]')?.textContent).toContain('The technician’s day is full'))
    expect(dialog()!.querySelector('[data-testid=visit-book-anyway]')).toBeNull()
    expect(dialog()!.textContent).toContain('ask a supervisor')

    answer = rpcError(409, 6, 'technician 21 is already booked 2026-05-12 07:00–09:00 UTC for T-000031', {
      reason: 'VISIT_CLASH',
      metadata: { technicianId: '21', taskNumber: 'T-000031' },
    })
    submit()
    await vi.waitFor(() =>
      expect(dialog()!.querySelector('[data-testid=visit-book-error]')?.textContent).toContain('Olga Fitter already has a visit then: T-000031'),
    )
    expect(dialog()!.querySelector('[data-testid=visit-book-overridable]')).toBeNull()
    wrapper.unmount()
  })

  it('gives the booked technician the reports from the field, in order, and asks why before “can’t do”', async () => {
    const { calls } = api(memberMe(['3']), {
      'POST /api/v1/tasks/{task_id}:reportVisit': () => ({ ...VISIT, state: 'VISIT_STATE_ON_THE_WAY' }),
    })
    const { wrapper } = mountWith(VisitPanel, { props: { task: BOOKED }, pinia: await signedIn() })
    expect(wrapper.find('[data-testid=visit-on-the-way]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=visit-rebook]').exists()).toBe(true)
    await wrapper.get('[data-testid=visit-on-the-way]').trigger('click')
    await vi.waitFor(() => expect(wrapper.emitted('changed')).toHaveLength(1))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/v1/tasks/9:reportVisit', body: { report: 'VISIT_REPORT_ON_THE_WAY' } })

    await wrapper.setProps({ task: { ...BOOKED, visit: { ...VISIT, state: 'VISIT_STATE_ON_THE_WAY' } } })
    expect(wrapper.find('[data-testid=visit-on-the-way]').exists()).toBe(false)
    await wrapper.get('[data-testid=visit-cant-do]').trigger('click')
    const form = await inDialog('form', 'visit-dialog-cantDo')
    form.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(dialog('visit-dialog-cantDo')!.textContent).toContain('Say why it cannot be done.'))
    await type(dialog('visit-dialog-cantDo')!.querySelector('textarea')!, 'No access to the building')
    form.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(wrapper.emitted('changed')).toHaveLength(2))
    expect(calls.filter((c) => c.method === 'POST').at(-1)).toMatchObject({ body: { report: 'VISIT_REPORT_CANT_DO', comment: 'No access to the building' } })
    wrapper.unmount()
  })

  it('offers another member of the group rebooking and cancelling, but no reports; a visit on site is not moved', async () => {
    const me = memberMe(['3'])
    me.user.id = '30'
    const { calls } = api(me, { 'POST /api/v1/tasks/{task_id}:cancelVisit': () => ({ ...VISIT, state: 'VISIT_STATE_CANCELLED' }) })
    const { wrapper } = mountWith(VisitPanel, { props: { task: BOOKED }, pinia: await signedIn() })
    expect(wrapper.find('[data-testid=visit-reports]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=visit-rebook]').exists()).toBe(true)
    await wrapper.get('[data-testid=visit-cancel]').trigger('click')
    const form = await inDialog('form', 'visit-dialog-cancel')
    await type(dialog('visit-dialog-cancel')!.querySelector('textarea')!, 'The customer asked to move it')
    form.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(wrapper.emitted('changed')).toHaveLength(1))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/v1/tasks/9:cancelVisit', body: { reason: 'The customer asked to move it' } })

    await wrapper.setProps({ task: { ...BOOKED, visit: { ...VISIT, state: 'VISIT_STATE_ARRIVED' } } })
    expect(wrapper.find('[data-testid=visit-rebook]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=visit-cancel]').exists()).toBe(true)
    wrapper.unmount()
  })
})
