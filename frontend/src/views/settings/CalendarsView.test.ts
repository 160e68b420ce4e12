import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Calendar } from '@/api/client'
import { ADMIN_ME, mockApi, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import CalendarsView from './CalendarsView.vue'

vi.mock('primevue/useconfirm', () => import('@/test/confirmYes'))
vi.mock('primevue/usetoast', () => ({ useToast: () => ({ add: () => {} }) }))

const day = (s: number, e: number) => ({ startMinute: s, endMinute: e })
const PRODUCTION: Calendar = {
  id: '1',
  name: 'Production calendar',
  timeZone: 'Europe/Moscow',
  week: [day(540, 1080), day(540, 1080), day(540, 1080), day(540, 1080), day(540, 1020), day(0, 0), day(0, 0)],
  dates: [{ date: '2026-06-12', hours: day(0, 0) }],
  groupIds: ['3'],
}

async function setup(me: object, routes: Parameters<typeof mockApi>[0] = {}) {
  const api = mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/calendars': () => ({ calendars: [PRODUCTION] }),
    'GET /api/v1/groups': () => ({
      groups: [
        { id: '3', name: 'Installers' },
        { id: '5', name: 'Support' },
      ],
    }),
    ...routes,
  })
  const { wrapper } = mountWith(CalendarsView, { pinia: await signedIn() })
  await vi.waitFor(() => expect(wrapper.find('[data-testid=calendar-week]').exists()).toBe(true))
  return { wrapper, ...api }
}

describe('the calendars screen', () => {
  it('shows each calendar’s week in a line and the groups it serves; a viewer only opens it', async () => {
    const { wrapper } = await setup(VIEWER_ME)
    expect(wrapper.get('[data-testid=calendar-week]').text()).toBe('Mon–Thu 09:00–18:00, Fri 09:00–17:00')
    await vi.waitFor(() => expect(wrapper.text()).toContain('Installers'))
    expect(wrapper.find('[data-testid=calendar-new]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=calendar-delete]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('saves a calendar with a group and a date added', async () => {
    const { wrapper, calls } = await setup(ADMIN_ME, { 'POST /api/v1/calendars': (req) => ({ ...(req.body as Calendar), id: '2' }) })
    await wrapper.get('[data-testid=calendar-new]').trigger('click')
    const body = (sel: string) => document.body.querySelector<HTMLInputElement>(sel)!
    await vi.waitFor(() => expect(body('[data-testid=calendar-name]')).not.toBeNull())
    body('[data-testid=calendar-name]').value = 'Support 24/5'
    body('[data-testid=calendar-name]').dispatchEvent(new Event('input'))
    body('[data-testid=calendar-new-date]').value = '2026-12-31'
    body('[data-testid=calendar-new-date]').dispatchEvent(new Event('input'))
    await flushPromises()
    body('[data-testid=calendar-add-date]').click()
    await flushPromises()
    body('[data-testid=calendar-dialog] form').dispatchEvent(new Event('submit'))
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true))
    const sent = calls.find((c) => c.method === 'POST')!.body as Calendar
    expect(sent.name).toBe('Support 24/5')
    expect(sent.timeZone).toBe('Europe/Moscow')
    expect(sent.week?.[0]).toEqual(day(540, 1080))
    expect(sent.week?.[6]).toEqual(day(0, 0))
    expect(sent.dates).toEqual([{ date: '2026-12-31', hours: day(0, 0), note: '' }])
    wrapper.unmount()
  })
})
