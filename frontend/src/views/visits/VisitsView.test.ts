import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Visit } from '@/api/client'
import { addDays, localDate, localInstant, weekStart } from '@/components/visits/zone'
import { mockApi, VIEWER_ME } from '@/test/mockApi'
import { makeTestRouter, mountWith } from '@/test/mount'
import { memberMe, signedIn } from '@/test/session'
import VisitsView from './VisitsView.vue'

// A Tuesday and Wednesday a week or more ahead, on the reader's clock.
const TUE = addDays(weekStart(addDays(localDate(Date.now()), 7)), 1)
const WED = addDays(TUE, 1)
const at = (day: string, h: number, m = 0) => localInstant(day, h * 60 + m)
const iso = (day: string, h: number, m = 0) => new Date(at(day, h, m)).toISOString()
const LOCAL = Intl.DateTimeFormat().resolvedOptions().timeZone

const INSTALLATION = { id: '13', name: 'Installation', groupId: '3', position: 3, kind: 'PROCESS_KIND_MANUAL', visit: true }
const ROUTES = {
  routes: [
    {
      id: '1',
      name: 'New connection',
      processes: [{ id: '11', name: 'Sales check', groupId: '1', position: 1, kind: 'PROCESS_KIND_MANUAL' }, INSTALLATION],
    },
  ],
}
const GROUPS = {
  groups: [
    { id: '1', name: 'Sales' },
    { id: '3', name: 'Installers' },
  ],
}
const MEMBERS = {
  members: [
    { id: '22', login: 'pavel', displayName: 'Pavel Fitter', active: true },
    { id: '21', login: 'olga', displayName: 'Olga Fitter', active: true },
  ],
}
const SCHEDULE = {
  groupId: '3',
  timeZone: LOCAL,
  hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] },
  technicians: [{ userId: '22', daysOff: [WED] }],
  version: 2,
}

function visit(id: string, day: string, from: number, to: number, techs: string[], extra: Partial<Visit> = {}): Visit {
  return {
    id,
    taskId: `4${id}`,
    taskNumber: `T-00004${id}`,
    processId: '13',
    groupId: '3',
    state: 'VISIT_STATE_BOOKED',
    startTime: iso(day, from),
    endTime: iso(day, to),
    technicians: techs.map((userId) => ({ userId, name: userId === '21' ? 'Olga Fitter' : 'Pavel Fitter' })),
    address: 'Arbat 10',
    customerName: 'Ivan Petrov',
    ...extra,
  }
}
const VISITS = [visit('1', TUE, 10, 12, ['21']), visit('2', TUE, 14, 16, ['22'], { late: true, state: 'VISIT_STATE_ON_THE_WAY' })]
const WAITING = {
  tasks: [
    {
      id: '50',
      number: 'T-000050',
      title: 'Connect C-000050',
      state: 'TASK_STATE_OPEN',
      awaitingVisit: true,
      currentProcess: INSTALLATION,
      contractId: '8',
      customerName: 'Anna Smirnova',
    },
  ],
}

function api(me: object = memberMe(['3']), extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/groups': () => GROUPS,
    'GET /api/v1/routes': () => ROUTES,
    'GET /api/v1/groups/{group_id}/members': () => MEMBERS,
    'GET /api/v1/groups/{group_id}/schedule': () => SCHEDULE,
    'GET /api/v1/visits': () => ({ visits: VISITS }),
    'GET /api/v1/tasks': () => WAITING,
    'GET /api/v1/contracts/{id}': () => ({ id: '8', address: 'Tverskaya 7' }),
    ...extra,
  })
}

async function open(query: string, me?: object, extra?: Parameters<typeof mockApi>[0]) {
  const mock = api(me, extra)
  const router = makeTestRouter()
  await router.push(`/visits?${query}`)
  const { wrapper } = mountWith(VisitsView, { router, pinia: await signedIn() })
  await vi.waitFor(() => expect(wrapper.findAll('[data-testid=calendar-row], [data-testid=visit-day-list]').length).toBeGreaterThan(0))
  await vi.waitFor(() => expect(wrapper.find('[data-testid=awaiting-visits]').exists()).toBe(true))
  return { wrapper, router, ...mock }
}

const row = (w: VueWrapper, tech: string) => w.get(`[data-testid=calendar-row][data-technician="${tech}"]`)
const cell = (w: VueWrapper, tech: string, day: string) => w.get(`[data-testid=calendar-cell][data-technician="${tech}"][data-day="${day}"]`)
const slot = (w: VueWrapper, tech: string, day: string, h: number, m = 0) =>
  cell(w, tech, day).get(`[data-testid=calendar-slot][data-start="${iso(day, h, m)}"]`)
const dialog = () => document.body.querySelector<HTMLElement>('[data-testid=visit-book-dialog]')
const field = (id: string) => dialog()!.querySelector<HTMLInputElement>(`[data-testid=${id}]`)!

describe('the visits calendar', () => {
  it('reads the group’s visits for the day and shows a row per technician with blocks placed by their windows', async () => {
    const { wrapper, calls } = await open(`group=3&date=${TUE}`)
    const list = calls.find((c) => c.path === '/api/v1/visits')!
    expect(Object.fromEntries(list.query)).toEqual({ groupId: '3', from: new Date(at(TUE, 0)).toISOString(), to: new Date(at(WED, 0)).toISOString() })
    expect(wrapper.findAll('[data-testid=calendar-row]').map((r) => r.attributes('data-technician'))).toEqual(['21', '22'])
    expect(row(wrapper, '21').text()).toContain('Olga Fitter')
    // The group works 9–18: the calendar shows 8–19, eleven hours.
    const block = row(wrapper, '21').get('[data-testid=calendar-block]')
    expect(block.attributes('style')).toContain(`left: ${(2 / 11) * 100}%`)
    expect(block.attributes('style')).toContain(`width: ${(2 / 11) * 100}%`)
    expect(block.attributes('href')).toBe('/tasks/41')
    expect(block.text()).toContain('T-000041')
    expect(block.text()).toContain('Booked')
    const late = row(wrapper, '22').get('[data-testid=calendar-block]')
    expect(late.attributes('data-late')).toBe('true')
    expect(late.classes()).toContain('cal__block--late')
    expect(late.text()).toContain('Late')
    expect(wrapper.get('[data-testid=visits-summary]').text()).toBe('2 visits')
    wrapper.unmount()
  })

  it('shades each technician’s working hours and marks a day off in the week view', async () => {
    const { wrapper } = await open(`group=3&date=${TUE}&view=week`)
    expect(wrapper.findAll('[data-testid=calendar-day]')).toHaveLength(7)
    const work = cell(wrapper, '21', TUE).get('[data-testid=calendar-band]')
    expect(work.attributes('data-kind')).toBe('work')
    expect(work.attributes('style')).toContain(`left: ${(1 / 11) * 100}%`)
    expect(work.attributes('style')).toContain(`width: ${(9 / 11) * 100}%`)
    expect(cell(wrapper, '22', WED).find('[data-testid=calendar-day-off]').exists()).toBe(true)
    expect(cell(wrapper, '22', WED).get('[data-testid=calendar-band]').attributes('data-kind')).toBe('off')
    expect(cell(wrapper, '21', WED).find('[data-testid=calendar-day-off]').exists()).toBe(false)
    // Saturday: nobody works, nothing shaded.
    expect(cell(wrapper, '21', addDays(TUE, 4)).find('[data-testid=calendar-band]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('books a waiting task dropped on a technician’s slot: the preview warns of a clash first, the dialog opens filled from the drop', async () => {
    const { wrapper, calls } = await open(`group=3&date=${TUE}`, memberMe(['3']), {
      'POST /api/v1/tasks/{task_id}:bookVisit': () => visit('9', TUE, 12, 14, ['21']),
    })
    await wrapper.get('[data-testid=awaiting-item]').trigger('dragstart')
    // Over Olga's 11:00: her visit runs until 12:00.
    await slot(wrapper, '21', TUE, 11).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('overlap')
    expect(wrapper.get('[data-testid=calendar-hint]').text()).toContain('Olga Fitter has another visit then: T-000041')
    // Over 17:00: the window would run past 18:00.
    await slot(wrapper, '21', TUE, 17).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('outside')
    await slot(wrapper, '21', TUE, 12).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('none')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('style')).toContain(`left: ${(4 / 11) * 100}%`)
    await cell(wrapper, '21', TUE).trigger('drop')
    await vi.waitFor(() => expect(field('visit-address')?.value).toBe('Tverskaya 7'))
    expect([field('visit-date').value, field('visit-start').value, field('visit-end').value]).toEqual([TUE, '12:00', '14:00'])
    expect(dialog()!.querySelector('[data-testid=visit-technicians]')!.textContent).toContain('Olga Fitter')
    expect(wrapper.find('[data-testid=calendar-preview]').exists()).toBe(false)
    dialog()!.querySelector('form')!.dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({
      path: '/api/v1/tasks/50:bookVisit',
      body: { startTime: iso(TUE, 12), endTime: iso(TUE, 14), technicianIds: ['21'], address: 'Tverskaya 7', processId: '13' },
    })
    // The calendar and the queue are read again.
    await vi.waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/visits')).toHaveLength(2))
    expect(calls.filter((c) => c.path === '/api/v1/tasks')).toHaveLength(2)
    wrapper.unmount()
  })

  it('rebooks a visit dragged to another technician’s slot, keeping its length', async () => {
    const { wrapper } = await open(`group=3&date=${TUE}`)
    const block = row(wrapper, '21').get('[data-testid=calendar-block]')
    expect(block.attributes('draggable')).toBe('true')
    await block.trigger('dragstart')
    await slot(wrapper, '22', TUE, 9, 30).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('none')
    await cell(wrapper, '22', TUE).trigger('drop')
    await vi.waitFor(() => expect(dialog()).not.toBeNull())
    expect(dialog()!.textContent).toContain('Rebook the visit · T-000041')
    expect([field('visit-start').value, field('visit-end').value, field('visit-address').value]).toEqual(['09:30', '11:30', 'Arbat 10'])
    await vi.waitFor(() => expect(dialog()!.querySelector('[data-testid=visit-technicians]')!.textContent).toContain('Pavel Fitter'))
    expect(dialog()!.querySelector('[data-testid=visit-technicians]')!.textContent).not.toContain('Olga Fitter')
    wrapper.unmount()
  })

  it('warns of a day off before the drop, and lets a viewer drag nothing', async () => {
    const { wrapper } = await open(`group=3&date=${WED}`)
    await wrapper.get('[data-testid=awaiting-item]').trigger('dragstart')
    await slot(wrapper, '22', WED, 10).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('outside')
    expect(wrapper.get('[data-testid=calendar-hint]').text()).toContain('Pavel Fitter has a day off.')
    wrapper.unmount()

    const viewer = await open(`group=3&date=${TUE}`, VIEWER_ME)
    expect(viewer.wrapper.findAll('[data-testid=calendar-block]').map((b) => b.attributes('draggable'))).toEqual(['false', 'false'])
    expect(viewer.wrapper.get('[data-testid=awaiting-item]').attributes('draggable')).toBe('false')
    expect(viewer.wrapper.find('[data-testid=awaiting-book]').exists()).toBe(false)
    viewer.wrapper.unmount()
  })

  it('takes no drop on a time already past', async () => {
    const past = addDays(weekStart(addDays(localDate(Date.now()), -7)), 1)
    const { wrapper } = await open(`group=3&date=${past}`)
    await wrapper.get('[data-testid=awaiting-item]').trigger('dragstart')
    await slot(wrapper, '21', past, 10).trigger('dragover')
    expect(wrapper.get('[data-testid=calendar-preview]').attributes('data-conflict')).toBe('past')
    await cell(wrapper, '21', past).trigger('drop')
    await flushPromises()
    expect(dialog()).toBeNull()
    wrapper.unmount()
  })

  it('opens the booking dialog from a waiting task’s Book button, from the start of work on the shown day', async () => {
    const { wrapper } = await open(`group=3&date=${TUE}`)
    await wrapper.get('[data-testid=awaiting-book]').trigger('click')
    await vi.waitFor(() => expect(dialog()).not.toBeNull())
    expect([field('visit-date').value, field('visit-start').value, field('visit-end').value]).toEqual([TUE, '09:00', '11:00'])
    wrapper.unmount()
  })

  it('offers the groups whose processes need visits, and all groups on request', async () => {
    const { wrapper, router } = await open(`group=3&date=${TUE}`)
    wrapper.get('[data-testid=visits-group]').element.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    await vi.waitFor(() => expect(document.body.querySelectorAll('[role=option]').length).toBeGreaterThan(0))
    expect([...document.body.querySelectorAll('[role=option]')].map((o) => o.textContent?.trim())).toEqual(['Installers'])
    await wrapper.get('[data-testid=visits-all-groups] input').setValue(true)
    await flushPromises()
    expect(router.currentRoute.value.query.all).toBe('1')
    wrapper.unmount()
  })

  it('steps a day or a week at a time and keeps the choice in the address', async () => {
    const { wrapper, router } = await open(`group=3&date=${TUE}`)
    await wrapper.get('[data-testid=visits-next]').trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.query.date).toBe(WED))
    await router.replace({ query: { ...router.currentRoute.value.query, view: 'week' } })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=calendar-day]')).toHaveLength(7))
    await wrapper.get('[data-testid=visits-prev]').trigger('click')
    await vi.waitFor(() => expect(router.currentRoute.value.query.date).toBe(addDays(WED, -7)))
    wrapper.unmount()
  })
})

describe('the visits calendar on a phone', () => {
  it('lists the day’s visits in time order, with the waiting tasks below', async () => {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: true, media: query, addEventListener: () => {}, removeEventListener: () => {} }))
    const { wrapper } = await open(`group=3&date=${TUE}&view=week`, memberMe(['3']), {
      'GET /api/v1/visits': () => ({ visits: [VISITS[1], VISITS[0]] }),
    })
    expect(wrapper.find('[data-testid=visit-calendar]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=visits-view]').exists()).toBe(false)
    const items = wrapper.findAll('[data-testid=day-list-item]')
    expect(items.map((i) => i.attributes('data-visit'))).toEqual(['1', '2'])
    expect(items[1]!.classes()).toContain('day-list__item--late')
    expect(items[0]!.text()).toContain('T-000041')
    expect(items[0]!.text()).toContain('Arbat 10')
    expect(wrapper.find('[data-testid=awaiting-book]').exists()).toBe(true)
    wrapper.unmount()
  })
})
