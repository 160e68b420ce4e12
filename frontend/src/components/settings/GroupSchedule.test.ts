import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { Schedule } from '@/api/client'
import { ADMIN_ME, mockApi, rpcError, VIEWER_ME } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import GroupSchedule from './GroupSchedule.vue'

const GROUP = { id: '3', name: 'Installers' }
const SCHEDULE: Schedule = {
  groupId: '3',
  timeZone: 'Europe/Moscow',
  hours: { startMinute: 540, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] },
  capacityPerDay: 4,
  technicians: [{ userId: '21', name: 'Olga Fitter', daysOff: ['2026-05-13'] }],
  version: 3,
}
const MEMBERS = {
  members: [
    { id: '21', login: 'olga', displayName: 'Olga Fitter', active: true },
    { id: '22', login: 'pavel', displayName: 'Pavel Fitter', active: true },
  ],
}

function api(me: object, put?: (body: Schedule) => unknown) {
  return mockApi({
    'GET /api/v1/auth/me': () => me,
    'GET /api/v1/groups/{group_id}/schedule': () => SCHEDULE,
    'GET /api/v1/groups/{group_id}/members': () => MEMBERS,
    'PUT /api/v1/groups/{group_id}/schedule': (req) => (put ? put(req.body as Schedule) : { ...(req.body as Schedule), version: 4 }),
  })
}

async function type(el: HTMLInputElement, value: string) {
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('a group’s working time', () => {
  it('shows the group’s hours and each member, and saves a changed day with the version it was read at', async () => {
    const { calls } = api(ADMIN_ME)
    const { wrapper } = mountWith(GroupSchedule, { props: { group: GROUP }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=schedule-technician]')).toHaveLength(2))
    expect(wrapper.get('[data-testid=schedule-version]').text()).toBe('version 3')
    expect((wrapper.get('[data-testid=schedule-start]').element as HTMLInputElement).value).toBe('09:00')
    const olga = wrapper.get('[data-testid=schedule-technician][data-user="21"]')
    expect(olga.get('[data-testid=tech-days-off]').text()).toMatch(/13/)

    await type(wrapper.get('[data-testid=schedule-end]').element as HTMLInputElement, '19:30')
    const pavel = wrapper.get('[data-testid=schedule-technician][data-user="22"]')
    await pavel.get('[data-testid=tech-own-hours] input').setValue(true)
    await type(pavel.get('[data-testid=tech-start]').element as HTMLInputElement, '12:00')
    await type(pavel.get('[data-testid=tech-day-off-date]').element as HTMLInputElement, '2026-05-14')
    await pavel.get('[data-testid=tech-day-off-add]').trigger('click')
    await wrapper.get('[data-testid=schedule-form]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.get('[data-testid=schedule-version]').text()).toBe('version 4'))
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.query.get('expectedVersion')).toBe('3')
    expect(put.body).toEqual({
      timeZone: 'Europe/Moscow',
      hours: { startMinute: 540, endMinute: 1170, weekdays: [1, 2, 3, 4, 5] },
      capacityPerDay: 4,
      technicians: [
        { userId: '21', capacityPerDay: 0, daysOff: ['2026-05-13'] },
        { userId: '22', hours: { startMinute: 720, endMinute: 1080, weekdays: [1, 2, 3, 4, 5] }, capacityPerDay: 0, daysOff: ['2026-05-14'] },
      ],
    })
    wrapper.unmount()
  })

  it('refuses hours that end before they start without sending them', async () => {
    const { calls } = api(ADMIN_ME)
    const { wrapper } = mountWith(GroupSchedule, { props: { group: GROUP }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=schedule-end]').exists()).toBe(true))
    await type(wrapper.get('[data-testid=schedule-end]').element as HTMLInputElement, '08:00')
    await wrapper.get('[data-testid=schedule-form]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.text()).toContain('The working day ends after it starts.'))
    expect(calls.filter((c) => c.method === 'PUT')).toEqual([])
    wrapper.unmount()
  })

  it('says so when someone else saved meanwhile, and loads their version', async () => {
    const { calls } = api(ADMIN_ME, () => rpcError(409, 10, 'the schedule was changed meanwhile (version 4, you saw 3); reload it'))
    const { wrapper } = mountWith(GroupSchedule, { props: { group: GROUP }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=schedule-form]').exists()).toBe(true))
    await wrapper.get('[data-testid=schedule-form]').trigger('submit')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=schedule-stale]').exists()).toBe(true))
    await wrapper.get('[data-testid=schedule-reload]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=schedule-stale]').exists()).toBe(false))
    expect(calls.filter((c) => c.method === 'GET' && c.path.endsWith('/schedule'))).toHaveLength(2)
    wrapper.unmount()
  })

  it('lets a reader see it but change nothing', async () => {
    api(VIEWER_ME)
    const { wrapper } = mountWith(GroupSchedule, { props: { group: GROUP }, pinia: await signedIn() })
    await vi.waitFor(() => expect(wrapper.find('[data-testid=schedule-form]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=schedule-save]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=tech-day-off-add]').exists()).toBe(false)
    expect(wrapper.get('fieldset').attributes('disabled')).toBeDefined()
    wrapper.unmount()
  })
})
