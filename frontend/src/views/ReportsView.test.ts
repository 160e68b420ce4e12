import { describe, expect, it, vi } from 'vitest'
import { ADMIN_ME, mockApi } from '@/test/mockApi'
import { mountWith } from '@/test/mount'
import { signedIn } from '@/test/session'
import ReportsView from './ReportsView.vue'

// Charts draw on a canvas, which the test DOM has not: each is a stub
// that keeps the figures it was given.
vi.mock('primevue/chart', () => ({
  default: { props: ['data', 'type', 'options'], template: '<div class="chart-stub" :data-points="JSON.stringify(data.datasets.map((s) => s.data))"></div>' },
}))
const saved = vi.hoisted(() => [] as { name: string; text: Promise<string> }[])
vi.mock('@/api/raw', async (orig) => ({ ...(await orig<object>()), saveBlob: (b: Blob, name: string) => saved.push({ name, text: b.text() }) }))

const REPORT = {
  timeZone: 'Europe/Moscow',
  days: [
    { date: '2026-03-10', opened: 4, closed: 0, cancelled: 2, backlog: 3 },
    { date: '2026-03-11', opened: 0, closed: 2, cancelled: 0, backlog: 1 },
  ],
  processes: [
    {
      routeId: '2',
      routeName: 'Repair',
      processId: '6',
      processName: 'Diagnostics',
      groupId: '5',
      entered: 2,
      withSla: 2,
      breached: 1,
      left: 2,
      medianSeconds: '7200',
      p90Seconds: '14400',
    },
    { routeId: '2', routeName: 'Repair', processId: '8', processName: 'Idle', groupId: '5', entered: 0, left: 0 },
  ],
  funnel: { opened: 2, activated: 1, cancelled: 1, cancelledBy: [{ resolution: 'not_feasible', count: 1 }], medianLeadSeconds: '86400' },
}

/** The screen mounted over REPORT, one route and one group, once drawn. */
async function shown() {
  const { calls } = mockApi({
    'GET /api/v1/auth/me': () => ADMIN_ME,
    'GET /api/v1/reports/tasks': () => REPORT,
    'GET /api/v1/routes': () => ({ routes: [{ id: '2', name: 'Repair' }] }),
    'GET /api/v1/groups': () => ({ groups: [{ id: '5', name: 'Support' }] }),
  })
  const { wrapper } = mountWith(ReportsView, { pinia: await signedIn() })
  await vi.waitFor(() => expect(wrapper.find('[data-testid=report-processes-table]').exists()).toBe(true))
  return { calls, wrapper }
}

describe('the reports screen', () => {
  it('draws each report, tells its figures in words and saves them as CSV', async () => {
    const { calls, wrapper } = await shown()
    const q = calls.find((c) => c.path === '/api/v1/reports/tasks')!.query
    expect(q.get('from')).toMatch(/^\d{4}-\d\d-\d\d$/)
    expect(q.get('to')).toMatch(/^\d{4}-\d\d-\d\d$/)
    expect(wrapper.get('[data-testid=report-days] .chart-stub').attributes('data-points')).toBe('[[4,0],[0,2],[2,0],[3,1]]')
    expect(wrapper.get('[data-testid=report-days]').text()).toContain('Opened 4, closed 2; open at the end: 1.')
    const table = wrapper.get('[data-testid=report-processes-table]').text()
    expect(table).toContain('Diagnostics')
    expect(table).toContain('50 %')
    expect(table).not.toContain('Idle') // nothing moved there
    expect(wrapper.get('[data-testid=report-funnel]').text()).toContain('Median time from contract to activation: 24 h')

    await wrapper.get('[data-testid=report-processes-csv]').trigger('click')
    expect(saved.at(-1)!.name).toMatch(/^processes-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/)
    expect(await saved.at(-1)!.text).toContain('Repair,Diagnostics,Support,2,2,1,50,2,2,4')
    wrapper.unmount()
  })

  it('says the route and group filters take all when none is chosen', async () => {
    const { wrapper } = await shown()
    expect(wrapper.get('[data-testid=report-route]').text()).toBe('All routes')
    expect(wrapper.get('[data-testid=report-group]').text()).toBe('All groups')
    wrapper.unmount()
  })
})
