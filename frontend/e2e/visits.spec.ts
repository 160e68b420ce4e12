// Field visits as a dispatcher and a technician work them, on one stack:
// two technicians join the group that installs, three new connections reach
// its "requires a visit" process, and one is booked through the API. In
// the browser the dispatcher sees them on the calendar, drags a waiting
// task onto a technician's hours (the target warns of a clash first),
// books another from the keyboard outside working time and overrides as a
// supervisor, moves a visit to another technician by dragging it, and
// gives a technician a day off; the technician opens their visit on the
// task page and reports setting out; a phone shows the day as a list.
// Screenshots: the calendar at 1280 px and at 390 px, the task's visit
// panel.
//
// Names of routes, processes and groups are read from the API, so the
// steps hold in either seed language; times are the browser's, in Moscow
// (e2e/env.ts), as is the group's default working time.

import { randomBytes } from 'node:crypto'
import type { Locator, Page } from '@playwright/test'
import { audit, BLOCKING, byTest, data, expect, must, screenshot, signedInPage, test, type Account } from './fixtures'

test.describe.configure({ mode: 'serial' })

const { run, mobile, asLocal } = data
const ZONE = 'Europe/Moscow'

/** A Moscow date n days from now. */
function moscowDate(n: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + n * 86_400_000))
}

/** The first working day (Monday to Friday) from tomorrow, in Moscow. */
function nextWorkingDay(): string {
  for (let n = 1; ; n++) {
    const date = moscowDate(n)
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay()
    if (weekday >= 1 && weekday <= 5) return date
  }
}

const DAY = nextWorkingDay()
/** An instant of DAY on Moscow's clock, as the calendar's slots name it. */
const at = (hhmm: string, date = DAY) => new Date(`${date}T${hhmm}:00+03:00`).toISOString()

let admin: Account
let groupId = ''
let olga: Account & { id: string; name: string }
let pavel: Account & { id: string; name: string }
/** The three connection tasks, waiting in the visit process. */
const tasks: { id: string; number: string }[] = []

async function technician(token: string, name: string): Promise<Account & { id: string; name: string }> {
  const account = { login: `tech-${randomBytes(3).toString('hex')}-${run}`, password: `Pw-${randomBytes(9).toString('base64url')}` }
  const displayName = `${name} ${run}`
  const user = await must('POST', '/api/v1/users', {
    token,
    body: { login: account.login, displayName, password: account.password, roles: ['engineer'], active: true },
  })
  await must('POST', `/api/v1/groups/${groupId}/members`, { token, body: { userId: user.id } })
  return { ...account, id: String(user.id), name: displayName }
}

test.beforeAll(async ({ adminToken }) => {
  admin = { login: process.env.E2E_ADMIN_LOGIN ?? 'admin', password: process.env.E2E_ADMIN_PASSWORD ?? '' }
  const route1 = await must('GET', '/api/v1/routes/1', { token: adminToken })
  const visitProcess = route1.processes.find((p: { visit?: boolean }) => p.visit)
  expect(visitProcess, 'route No. 1 has a process that requires a visit').toBeTruthy()
  groupId = String(visitProcess.groupId)
  olga = await technician(adminToken, 'Ольга Монтажникова')
  pavel = await technician(adminToken, 'Павел Сборщиков')
  const tariffs = await must('GET', '/api/v1/tariffs?pageSize=1', { token: adminToken })
  for (let i = 0; i < 3; i++) {
    const made = await must('POST', '/api/v1/connections', {
      token: adminToken,
      body: {
        customer: { kind: 'CUSTOMER_KIND_PERSON', name: `Е2Е Выезд ${i + 1} ${run}`, phones: [{ number: asLocal(mobile('916')) }] },
        tariffId: tariffs.tariffs[0].id,
        address: `Москва, ул. Арбат, д. ${10 + i}, кв. ${i + 5}`,
      },
    })
    const id = String(made.task.id)
    // Moved on to the visit process by the supervisor, one process at a time.
    for (let guard = 0; guard < 5; guard++) {
      const t = await must('GET', `/api/v1/tasks/${id}`, { token: adminToken })
      if (t.currentProcess?.visit) break
      await must('POST', `/api/v1/tasks/${id}:advance`, { token: adminToken, body: { processId: t.currentProcess.id, comment: 'e2e' } })
    }
    await expect.poll(async () => (await must('GET', `/api/v1/tasks/${id}`, { token: adminToken })).awaitingVisit, { timeout: 30_000 }).toBe(true)
    tasks.push({ id, number: made.task.number })
  }
  await must('POST', `/api/v1/tasks/${tasks[0]!.id}:bookVisit`, {
    token: adminToken,
    body: { startTime: at('10:00'), endTime: at('12:00'), technicianIds: [olga.id], note: 'Позвонить за час' },
  })
})

const row = (page: Page, who: { id: string }) => page.locator(`[data-testid="calendar-row"][data-technician="${who.id}"]`)
const cell = (page: Page, who: { id: string }) => page.locator(`[data-testid="calendar-cell"][data-technician="${who.id}"][data-day="${DAY}"]`)
const slot = (page: Page, who: { id: string }, hhmm: string) => cell(page, who).locator(`[data-testid="calendar-slot"][data-start="${at(hhmm)}"]`)
const block = (page: Page, task: { id: string }) => page.locator(`[data-testid="calendar-block"][data-task="${task.id}"]`)
const waiting = (page: Page, task: { id: string }) => page.locator(`[data-testid="awaiting-item"][data-task="${task.id}"]`)

/** Moves the mouse onto a locator's middle, in steps, so the drag's events fire on the way. */
async function moveOnto(page: Page, target: Locator) {
  const box = await target.boundingBox()
  if (!box) throw new Error('the target is not on screen')
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 })
}

async function openCalendar(page: Page, date = DAY, view = 'day') {
  await page.goto(`/visits?group=${groupId}&date=${date}${view === 'week' ? '&view=week' : ''}`)
  await expect(row(page, olga)).toBeVisible()
  await expect(byTest(page, 'awaiting-visits')).toBeVisible()
}

test('the dispatcher sees the group’s technicians, their visits and the tasks waiting for one', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin)
  await page.goto('/')
  await byTest(page, 'nav-visits').click()
  await expect(page).toHaveURL(/\/visits/)
  await openCalendar(page)
  await expect(waiting(page, tasks[1]!)).toBeVisible()
  await expect(block(page, tasks[0]!)).toBeVisible()
  await expect(block(page, tasks[0]!)).toHaveAttribute('data-state', 'VISIT_STATE_BOOKED')
  await expect(row(page, olga).locator('[data-testid="calendar-block"]')).toHaveCount(1)
  await expect(cell(page, pavel).locator('[data-testid="calendar-band"][data-kind="work"]')).toHaveCount(1)
  await expect(waiting(page, tasks[0]!)).toHaveCount(0)
  await screenshot(page, 'visits-calendar-1280')
  const findings = await audit(page, 'visits')
  expect(findings.filter((f) => BLOCKING.includes(f.impact))).toEqual([])
  await page.context().close()
})

test('a waiting task dragged onto a technician’s hours warns of a clash, then books where it is free', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin)
  await openCalendar(page)
  await waiting(page, tasks[1]!).hover()
  await page.mouse.down()
  await moveOnto(page, slot(page, olga, '11:00'))
  await expect(byTest(page, 'calendar-preview')).toHaveAttribute('data-conflict', 'overlap')
  await expect(byTest(page, 'calendar-hint')).toContainText(tasks[0]!.number)
  await moveOnto(page, slot(page, pavel, '14:00'))
  await expect(byTest(page, 'calendar-preview')).toHaveAttribute('data-conflict', 'none')
  await page.mouse.up()
  const dialog = byTest(page, 'visit-book-dialog')
  await expect(dialog).toBeVisible()
  await expect(byTest(dialog, 'visit-start')).toHaveValue('14:00')
  await expect(byTest(dialog, 'visit-end')).toHaveValue('16:00')
  await expect(byTest(dialog, 'visit-technicians')).toContainText(pavel.name)
  await expect(byTest(dialog, 'visit-address')).toHaveValue(/Арбат, д\. 11/)
  await byTest(dialog, 'visit-book-submit').click()
  await expect(dialog).toHaveCount(0)
  await expect(row(page, pavel).locator(`[data-testid="calendar-block"][data-task="${tasks[1]!.id}"]`)).toBeVisible()
  await expect(waiting(page, tasks[1]!)).toHaveCount(0)
  await page.context().close()
})

test('from the keyboard: Book on a waiting task, outside working time, booked anyway by a supervisor', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin)
  await openCalendar(page)
  await waiting(page, tasks[2]!).locator('[data-testid="awaiting-book"]').focus()
  await page.keyboard.press('Enter')
  const dialog = byTest(page, 'visit-book-dialog')
  await expect(dialog).toBeVisible()
  await expect(byTest(dialog, 'visit-date')).toHaveValue(DAY)
  await byTest(dialog, 'visit-start').fill('18:30')
  await byTest(dialog, 'visit-end').fill('19:30')
  await byTest(dialog, 'visit-technicians').click()
  await page.locator('.p-multiselect-overlay').getByRole('option', { name: olga.name }).click()
  await page.keyboard.press('Escape')
  await expect(byTest(dialog, 'visit-book-conflict')).toBeVisible()
  await byTest(dialog, 'visit-book-submit').click()
  await expect(byTest(dialog, 'visit-book-overridable')).toContainText(olga.name)
  // Once the notice has finished opening, its button takes a click.
  await byTest(dialog, 'visit-book-anyway').click({ trial: true })
  await screenshot(page, 'visit-book-dialog-override')
  await byTest(dialog, 'visit-book-anyway').click()
  await expect(dialog).toHaveCount(0)
  await expect(row(page, olga).locator(`[data-testid="calendar-block"][data-task="${tasks[2]!.id}"]`)).toBeVisible()
  await expect(byTest(page, 'awaiting-none')).toBeVisible()
  await page.context().close()
})

test('a visit dragged onto another technician is rebooked for them', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin)
  await openCalendar(page)
  await block(page, tasks[0]!).hover()
  await page.mouse.down()
  await moveOnto(page, slot(page, pavel, '09:00'))
  await expect(byTest(page, 'calendar-preview')).toHaveAttribute('data-conflict', 'none')
  await page.mouse.up()
  const dialog = byTest(page, 'visit-book-dialog')
  await expect(dialog).toBeVisible()
  await expect(byTest(dialog, 'visit-start')).toHaveValue('09:00')
  await expect(byTest(dialog, 'visit-end')).toHaveValue('11:00')
  await expect(byTest(dialog, 'visit-note')).toHaveValue('Позвонить за час')
  await byTest(dialog, 'visit-book-submit').click()
  await expect(dialog).toHaveCount(0)
  await expect(row(page, pavel).locator(`[data-testid="calendar-block"][data-task="${tasks[0]!.id}"]`)).toBeVisible()
  await expect(row(page, olga).locator(`[data-testid="calendar-block"][data-task="${tasks[0]!.id}"]`)).toHaveCount(0)
  // A click on a block opens its task.
  await block(page, tasks[0]!).click()
  await expect(page).toHaveURL(new RegExp(`/tasks/${tasks[0]!.id}$`))
  await expect(byTest(page, 'visit-panel')).toBeVisible()
  await page.context().close()
})

test('a day off given in the group’s working time shows on the week', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin)
  const off = otherWeekday(DAY)
  await page.goto(`/settings/groups/${groupId}`)
  const editor = byTest(page, 'group-schedule')
  const tech = editor.locator(`[data-testid="schedule-technician"][data-user="${pavel.id}"]`)
  await expect(tech).toBeVisible()
  await byTest(tech, 'tech-day-off-date').fill(off)
  await byTest(tech, 'tech-day-off-add').click()
  await expect(byTest(tech, 'tech-days-off')).toBeVisible()
  await screenshot(page, 'group-working-time')
  await byTest(editor, 'schedule-save').click()
  await expect(byTest(editor, 'schedule-version')).not.toHaveText(/^$/)
  await expect(byTest(editor, 'schedule-error')).toHaveCount(0)
  await openCalendar(page, DAY, 'week')
  await expect(page.locator(`[data-testid="calendar-cell"][data-technician="${pavel.id}"][data-day="${off}"] [data-testid="calendar-day-off"]`)).toBeVisible()
  await expect(page.locator('[data-testid="calendar-block"]')).toHaveCount(3)
  await screenshot(page, 'visits-calendar-week-1280')
  await openCalendar(page)
  await expect(page.locator('[data-testid="calendar-block"]')).toHaveCount(3)
  await screenshot(page, 'visits-calendar-day-1280')
  await page.context().close()
})

test('the booked technician sees the visit on the task page and reports setting out', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'technician', olga)
  await page.goto(`/tasks/${tasks[2]!.id}`)
  const panel = byTest(page, 'visit-panel')
  await expect(panel).toBeVisible()
  await expect(byTest(panel, 'visit-technicians')).toContainText(olga.name)
  await expect(byTest(panel, 'visit-map')).toHaveAttribute('href', /^https?:\/\//)
  await expect(byTest(panel, 'visit-state')).toHaveAttribute('data-state', 'VISIT_STATE_BOOKED')
  await screenshot(page, 'task-visit-panel')
  await byTest(panel, 'visit-on-the-way').click()
  await expect(byTest(panel, 'visit-state')).toHaveAttribute('data-state', 'VISIT_STATE_ON_THE_WAY')
  await expect(byTest(panel, 'visit-on-the-way')).toHaveCount(0)
  await expect(byTest(panel, 'visit-arrived')).toBeVisible()
  await page.context().close()
})

test('on a phone the calendar is the day’s visits in time order', async ({ browser, browserErrors }) => {
  const page = await signedInPage(browser, browserErrors, 'admin', admin, { width: 390, height: 844 })
  await page.goto(`/visits?group=${groupId}&date=${DAY}`)
  const items = page.locator('[data-testid="day-list-item"]')
  await expect(items).toHaveCount(3)
  await expect(byTest(page, 'visit-calendar')).toHaveCount(0)
  await expect(items.nth(0)).toContainText(tasks[0]!.number)
  await expect(items.nth(1)).toContainText(tasks[1]!.number)
  await expect(items.nth(2)).toContainText(tasks[2]!.number)
  await expect(byTest(page, 'awaiting-visits')).toBeVisible()
  await screenshot(page, 'visits-phone-390')
  await byTest(page, 'visits-next').click()
  await expect(page).toHaveURL(new RegExp(`date=${nextDay(DAY)}`))
  // The task's visit, as a technician holds it on the way.
  await page.goto(`/tasks/${tasks[2]!.id}`)
  await expect(byTest(page, 'visit-panel')).toBeVisible()
  await expect(byTest(page, 'visit-arrived')).toBeVisible()
  await screenshot(page, 'task-visit-panel-390')
  await page.context().close()
})

function nextDay(date: string): string {
  const d = new Date(`${date}T12:00:00Z`)
  d.setUTCDate(d.getUTCDate() + 1)
  return d.toISOString().slice(0, 10)
}

/** Another working day of date's week (Monday to Friday): the next one, or the one before on a Friday. */
function otherWeekday(date: string): string {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay()
  if (weekday < 5) return nextDay(date)
  const d = new Date(`${date}T12:00:00Z`)
  d.setUTCDate(d.getUTCDate() - 1)
  return d.toISOString().slice(0, 10)
}
