// Running the operator, as an admin does: another system subscribed to task
// events on the webhooks screen, its signed deliveries arriving and shown
// in the log; the production calendar given to a group; a task closed and
// opened again from its page; the reports of the period.
// Screenshots: the webhook's secret, the delivery log, the calendar editor,
// the reopened task, the reports.

import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { byTest, data, expect, must, openSignedIn, screenshot, test } from './fixtures'

test.describe.configure({ mode: 'serial' })

/** A receiver on this machine: it checks each call's signature and keeps the event. */
function receiver(): Promise<{ server: Server; url: string; secret: { value: string }; events: { type: string; id: string; signed: boolean }[] }> {
  const events: { type: string; id: string; signed: boolean }[] = []
  const secret = { value: '' }
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const ts = String(req.headers['x-crm-timestamp'] ?? '')
      const want = 'sha256=' + createHmac('sha256', secret.value).update(`${ts}.`).update(body).digest('hex')
      const event = JSON.parse(body.toString('utf8'))
      events.push({ type: event.type, id: event.id, signed: req.headers['x-crm-signature'] === want })
      res.statusCode = 204
      res.end()
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`, secret, events })),
  )
}

test('a webhook made on its screen receives a new connection’s events, signed, and its log says so', async ({ adminPage: page, adminToken }) => {
  const rcv = await receiver()
  try {
    await openSignedIn(page, '/settings/webhooks', 'webhooks-table')
    await byTest(page, 'webhook-new').click()
    const dialog = byTest(page, 'webhook-dialog')
    // the dialog puts the focus on the name once it has opened: typing
    // before would lose the address to it
    await expect(byTest(dialog, 'webhook-name')).toBeFocused()
    await byTest(dialog, 'webhook-name').fill(`Биллинг ${data.run}`)
    await byTest(dialog, 'webhook-url').fill(rcv.url)
    await dialog.locator('[data-testid="webhook-kind-task_created"] input').check()
    await dialog.locator('[data-testid="webhook-kind-contract_status_changed"] input').check()
    await byTest(dialog, 'webhook-submit').click()
    const secret = byTest(dialog, 'webhook-secret')
    await expect(secret).toHaveValue(/^whsec_[0-9a-f]{64}$/)
    rcv.secret.value = await secret.inputValue()
    await screenshot(page, 'webhook-secret')
    await byTest(dialog, 'webhook-done').click()

    const tariffs = await must('GET', '/api/v1/tariffs?pageSize=1', { token: adminToken })
    const made = await must('POST', '/api/v1/connections', {
      token: adminToken,
      body: {
        customer: { kind: 'CUSTOMER_KIND_PERSON', name: `Вебхук ${data.run}`, phones: [{ number: data.asLocal(data.mobile('917')) }] },
        tariffId: tariffs.tariffs[0].id,
        address: 'Москва, ул. Тверская, д. 3',
      },
    })
    await expect.poll(() => rcv.events.filter((e) => e.id === `task-${made.task.id}/1`).length, { timeout: 30_000 }).toBe(1)
    expect(
      rcv.events.every((e) => e.signed),
      'every call carries a signature made with the secret shown',
    ).toBe(true)
    expect(rcv.events.find((e) => e.id === `task-${made.task.id}/1`)?.type).toBe('task.created')

    const row = page.locator('[data-testid="webhooks-table"] tr', { hasText: `Биллинг ${data.run}` })
    await row.locator('[data-testid="webhook-log-open"]').click()
    const log = byTest(page, 'webhook-log')
    await expect(log.locator('[data-testid="delivery-state"]').first()).toHaveText(/Доставлено|Delivered/)
    await screenshot(page, 'webhook-log')
    await page.keyboard.press('Escape')
  } finally {
    rcv.server.close()
  }
})

test('the production calendar is given to a group, and a new task of that group counts its SLA in working time', async ({ adminPage: page, adminToken }) => {
  await openSignedIn(page, '/settings/calendars', 'calendars-table')
  await byTest(page, 'calendar-edit').first().click()
  const dialog = byTest(page, 'calendar-dialog')
  await expect(dialog.locator('[data-testid="calendar-day"]')).toHaveCount(7)
  await byTest(dialog, 'calendar-groups').click()
  await page.getByRole('option', { name: /Продажи|Sales/ }).click()
  await page.keyboard.press('Escape')
  await screenshot(page, 'calendar-editor')
  await byTest(dialog, 'calendar-submit').click()
  await expect(dialog).toBeHidden()
  await expect(byTest(page, 'calendars-table')).toContainText(/Продажи|Sales/)

  const groups = (await must('GET', '/api/v1/groups', { token: adminToken })).groups as { id: string; name: string }[]
  const sales = groups.find((g) => /Продажи|Sales/.test(g.name))!
  const calendars = (await must('GET', '/api/v1/calendars', { token: adminToken })).calendars
  expect(calendars[0].groupIds).toContain(sales.id)
})

test('a task closed by mistake is opened again from its page, where it ended', async ({ adminPage: page, adminToken }) => {
  const tariffs = await must('GET', '/api/v1/tariffs?pageSize=1', { token: adminToken })
  const made = await must('POST', '/api/v1/connections', {
    token: adminToken,
    body: {
      customer: { kind: 'CUSTOMER_KIND_PERSON', name: `Повтор ${data.run}`, phones: [{ number: data.asLocal(data.mobile('918')) }] },
      tariffId: tariffs.tariffs[0].id,
      address: 'Москва, ул. Арбат, д. 7',
    },
  })
  // a repair on the new contract, cancelled by mistake
  const contractId = made.contract.id
  let task = made.task
  while (task.state === 'TASK_STATE_OPEN') {
    task = await must('POST', `/api/v1/tasks/${task.id}:advance`, { token: adminToken, body: { processId: task.currentProcess.id } })
  }
  // the connection closed: its workflow activates the contract
  await expect
    .poll(async () => (await must('GET', `/api/v1/contracts/${contractId}`, { token: adminToken })).status, { timeout: 30_000 })
    .toBe('CONTRACT_STATUS_ACTIVE')
  const repair = await must('POST', '/api/v1/tasks', { token: adminToken, body: { contractId, routeId: '2', title: `Нет сигнала ${data.run}` } })
  await must('POST', `/api/v1/tasks/${repair.id}:cancel`, { token: adminToken, body: { reason: 'ошибочно' } })

  await openSignedIn(page, `/tasks/${repair.id}`, 'reopen-until')
  await byTest(page, 'task-reopen').click()
  const dialog = byTest(page, 'task-dialog-reopen')
  await byTest(dialog, 'task-command-text').fill('Клиент перезвонил: сигнала снова нет')
  await byTest(dialog, 'task-command-submit').click()
  await expect(dialog).toBeHidden()
  await expect(byTest(page, 'timeline')).toContainText(/открыл задачу снова|opened the task again/)
  await screenshot(page, 'task-reopened')
  expect((await must('GET', `/api/v1/tasks/${repair.id}`, { token: adminToken })).state).toBe('TASK_STATE_OPEN')
})

test('the reports show the period’s tasks, processes and connections', async ({ adminPage: page }) => {
  await openSignedIn(page, '/reports', 'report-processes-table')
  await expect(byTest(page, 'report-days').locator('canvas')).toBeVisible()
  await expect(byTest(page, 'report-funnel')).toContainText(/Медиана|Median/)
  await screenshot(page, 'reports')
})
