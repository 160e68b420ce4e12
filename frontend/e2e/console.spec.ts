// The console as its people use it, one step after another on one stack:
// the admin registers a customer with two phones, sees a second customer
// refused at the phone field with a link to the first, runs the
// new-connection wizard (a taken phone sends it back to the customer step),
// moves the connection task through route No. 1 to closed with a comment at
// each process (on the task screen, by dragging on the board and from the
// keyboard), sees the contract become active, opens a service task on it and
// cancels it, edits tariffs and routes, walks the main screens (axe over
// every one); an operator works but changes no settings; a viewer is shown
// no way to change anything. Screenshots of every main screen go to
// e2e/screenshots/ (not committed).
//
// Reference data (route, process and group names) is read from the API, so
// the steps hold whatever language the deployment seeds it in.

import {
  ADMIN_LOGIN,
  ADMIN_PASSWORD,
  BLOCKING,
  audit,
  byTest,
  call,
  choose,
  confirmCommand,
  data,
  expect,
  must,
  screenshot,
  signInByApi,
  test,
  type AxeFinding,
} from './fixtures'

test.describe.configure({ mode: 'serial' })

const { run, mobile, asLocal, asIntl } = data
const phoneA = mobile('916')
const phoneB = mobile('926')
const phoneC = mobile('903')
const phoneD = mobile('905')
const customerName = `Е2Е Иван Петров ${run}`
const connectedName = `Е2Е Ольга Смирнова ${run}`
const connectedAddress = `Москва, ул. Арбат, д. 10, кв. ${Math.floor(Math.random() * 300) + 1}`

// What one step leaves for the next.
let customerId = ''
const connection = { contractId: '', contractNumber: '', taskId: '', taskNumber: '' }
let open = { id: '', number: '' }
let mine = { id: '', number: '' }
const axeFindings: AxeFinding[] = []

// The seeded reference data, by id: route No. 1's processes in order, the
// repair route (No. 2), and the groups the new route's processes go to.
let connectionProcesses: string[] = []
let repairRoute = ''
const groupName: Record<string, string> = {}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

test.beforeAll(async ({ adminToken }) => {
  const route1 = await must('GET', '/api/v1/routes/1', { token: adminToken })
  connectionProcesses = route1.processes.map((p: { name: string }) => p.name)
  expect(connectionProcesses).toHaveLength(5)
  repairRoute = (await must('GET', '/api/v1/routes/2', { token: adminToken })).name
  const groups = await must('GET', '/api/v1/groups', { token: adminToken })
  for (const g of groups.groups ?? []) groupName[String(g.id)] = g.name
})

/** Reads the task until its current process is the one wanted (the workflow acts a moment after the answer). */
async function atProcess(adminToken: string, process: string) {
  await expect
    .poll(
      async () => {
        const t = await must('GET', `/api/v1/tasks/${connection.taskId}`, { token: adminToken })
        return t.state === 'TASK_STATE_OPEN' ? t.currentProcess?.name : t.state
      },
      { message: `the task reaches ${process}`, timeout: 30_000 },
    )
    .toBe(process)
}

test('a visitor is sent to the login screen', async ({ page }) => {
  await page.goto('/customers')
  await expect(page).toHaveURL(/\/login\?redirect=/)
  await screenshot(page, 'login')
  axeFindings.push(...(await audit(page, 'sign-in')))
})

test('the admin signs in and lands where they were going', async ({ page }) => {
  await page.goto('/customers')
  await expect(page).toHaveURL(/\/login\?redirect=/)
  await page.locator('#login').fill(ADMIN_LOGIN)
  await page.locator('#password').fill(ADMIN_PASSWORD)
  await byTest(page, 'login-submit').click()
  await expect(page).toHaveURL(/\/customers$/)
  await expect(byTest(page, 'customers-table')).toBeVisible()
  await screenshot(page, 'customers')
})

test('home shows a greeting and shortcuts', async ({ adminPage: page }) => {
  await byTest(page, 'nav-home').click()
  await expect(byTest(page, 'greeting')).toBeVisible()
  await expect(byTest(page, 'shortcut-new-customer'), 'the admin sees the new-customer shortcut').toBeVisible()
  await screenshot(page, 'home')
})

test('a customer is registered with two phones', async ({ adminPage: page }) => {
  await byTest(page, 'shortcut-new-customer').click()
  await expect(page).toHaveURL(/\/customers\/new$/)
  await byTest(page, 'customer-name').fill(customerName)
  await byTest(page, 'customer-email').fill(`e2e-${run}@example.com`)
  await byTest(page, 'customer-address').fill('Москва, ул. Тверская, д. 1, кв. 2')
  await byTest(page, 'phone-number').nth(0).fill(asLocal(phoneA))
  await byTest(page, 'phone-label').nth(0).fill('мобильный')
  await byTest(page, 'phone-add').click()
  // The new row takes the cursor: type straight into it.
  await expect(byTest(page, 'phone-number').nth(1)).toBeFocused()
  await page.keyboard.type(asIntl(phoneB))
  await byTest(page, 'phone-label').nth(1).fill('домашний')
  await screenshot(page, 'customer-new')
  await byTest(page, 'phone-label').nth(1).press('Enter')
  await expect(page).toHaveURL(/\/customers\/\d+$/)
  customerId = page.url().split('/').pop() ?? ''
  await expect(byTest(page, 'phones-panel')).toBeVisible()
  const phones = byTest(page, 'phone-item')
  await expect(phones, 'two phones shown').toHaveCount(2)
  await expect(phones.nth(0), 'the first phone is normalised').toContainText(`+7 ${phoneA.slice(0, 3)} ${phoneA.slice(3, 6)}`)
  await screenshot(page, 'customer-detail')
})

test('a number another customer has is refused at its field, with a link to that customer', async ({ adminPage: page, adminToken }) => {
  await page.goto('/customers/new')
  await byTest(page, 'customer-name').fill(`Е2Е Дубликат ${run}`)
  await byTest(page, 'phone-number').nth(0).fill(asLocal(phoneC))
  await byTest(page, 'phone-add').click()
  await byTest(page, 'phone-number').nth(1).fill(`+7${phoneB}`)
  await byTest(page, 'customer-submit').click()
  const error = byTest(byTest(page, 'phone-row').nth(1), 'field-error')
  await expect(error).toBeVisible()
  await expect(byTest(byTest(page, 'phone-row').nth(0), 'field-error'), 'the free number has no error').toHaveCount(0)
  await expect(byTest(error, 'holder-link'), 'the error links to the customer who has the number').toHaveAttribute('href', `/customers/${customerId}`)
  await expect(page, 'nothing was created').toHaveURL(/\/customers\/new$/)
  await expect(page.locator(':focus'), 'the cursor is on the refused number').toHaveAttribute('data-testid', 'phone-number')
  await screenshot(page, 'customer-duplicate-phone')
  const found = await must('GET', `/api/v1/customers?query=${encodeURIComponent(phoneC)}`, { token: adminToken })
  expect(found.customers ?? [], 'the refused customer was not half-written').toHaveLength(0)
})

test('the customer is found by a part of the phone as the operator types', async ({ adminPage: page }) => {
  await byTest(page, 'nav-customers').click()
  await byTest(page, 'customer-search').fill(phoneA.slice(0, 7))
  await expect(page).toHaveURL(new RegExp(`q=${phoneA.slice(0, 7)}`))
  await expect(byTest(page, 'customer-link').filter({ hasText: customerName })).toBeVisible()
  await screenshot(page, 'customer-search')
})

test('the new-connection wizard registers a customer, ranks tariffs and opens the contract with its task', async ({ adminPage: page, adminToken }) => {
  await byTest(page, 'nav-connection-new').click()
  await expect(byTest(page, 'wizard-customer')).toBeVisible()
  await byTest(page, 'customer-name').fill(connectedName)
  await byTest(page, 'customer-address').fill(connectedAddress)
  // A number the first customer holds: the server refuses it at the end.
  await byTest(page, 'phone-number').nth(0).fill(asLocal(phoneA))
  await screenshot(page, 'wizard-1-customer')
  await byTest(page, 'wizard-next').click()

  await expect(byTest(page, 'wizard-requirements')).toBeVisible()
  await page.locator('#wizard-speed').fill('50')
  await screenshot(page, 'wizard-2-requirements')
  await byTest(page, 'wizard-next').click()

  const tariffs = byTest(page, 'wizard-tariff')
  await expect(tariffs.first(), 'suitable tariffs are offered').toBeVisible()
  await expect(tariffs.first().locator('input[type="radio"]'), 'the best tariff is chosen first').toBeChecked()
  await screenshot(page, 'wizard-3-tariffs')
  await byTest(page, 'wizard-next').click()

  await expect(byTest(page, 'wizard-address')).toBeVisible()
  await expect(byTest(page, 'wizard-address-input'), "the customer's address is offered").toHaveValue(connectedAddress)
  await screenshot(page, 'wizard-4-address')
  await byTest(page, 'wizard-next').click()

  await expect(byTest(page, 'wizard-confirm')).toBeVisible()
  await screenshot(page, 'wizard-5-confirm')
  await byTest(page, 'wizard-submit').click()

  // The taken number brings the wizard back to the customer, at the phone.
  await expect(byTest(page, 'wizard-refusal')).toBeVisible()
  await expect(byTest(page, 'wizard-body'), 'the refusal goes back to the customer step').toHaveAttribute('data-step', 'customer')
  await expect(byTest(byTest(page, 'phone-row').nth(0), 'field-error')).toBeVisible()
  await screenshot(page, 'wizard-refused-phone')
  await byTest(page, 'phone-number').nth(0).fill(asIntl(phoneD))
  await byTest(page, 'wizard-next').click()
  for (const s of ['requirements', 'tariff', 'address']) {
    await expect(page.locator(`[data-testid="wizard-body"][data-step="${s}"]`)).toBeVisible()
    if (s === 'tariff') await expect(tariffs.first()).toBeVisible()
    await byTest(page, 'wizard-next').click()
  }
  await expect(byTest(page, 'wizard-confirm')).toBeVisible()
  await byTest(page, 'wizard-submit').click()

  await expect(byTest(page, 'wizard-done')).toBeVisible()
  await expect(byTest(page, 'wizard-contract-number'), 'a contract number is shown').toHaveText(/^\s*C-\d+\s*$/)
  await expect(byTest(page, 'wizard-task-number'), 'a task number is shown').toHaveText(/^\s*T-\d+\s*$/)
  connection.contractNumber = (await byTest(page, 'wizard-contract-number').innerText()).trim()
  connection.taskNumber = (await byTest(page, 'wizard-task-number').innerText()).trim()
  connection.contractId = ((await byTest(page, 'wizard-contract-link').getAttribute('href')) ?? '').split('/').pop() ?? ''
  connection.taskId = ((await byTest(page, 'wizard-task-link').getAttribute('href')) ?? '').split('/').pop() ?? ''
  const contract = await must('GET', `/api/v1/contracts/${connection.contractId}`, { token: adminToken })
  expect(contract.status, 'the new contract is pending').toBe('CONTRACT_STATUS_PENDING')
  const found = await must('GET', `/api/v1/customers?query=${encodeURIComponent(phoneA)}`, { token: adminToken })
  expect(found.customers ?? [], 'the refused attempt registered nobody').toHaveLength(1)
  await screenshot(page, 'wizard-6-done')
})

test('the connection task is completed on its screen: the first process', async ({ adminPage: page, adminToken, request }) => {
  await byTest(page, 'wizard-task-link').click()
  await expect(byTest(page, 'route-progress')).toBeVisible()
  await expect(byTest(page, 'task-number')).toHaveText(connection.taskNumber)
  await expect(byTest(page, 'task-id')).toContainText(connection.taskId)
  const current = page.locator('[data-testid="progress-step"][data-state="current"]')
  await expect(current, 'the first process is highlighted').toContainText(connectionProcesses[0])
  const cfgAnswer = await request.get('/console-config.json')
  const cfg = (cfgAnswer.headers()['content-type'] ?? '').includes('json') ? await cfgAnswer.json() : null
  if (cfg?.temporalUiUrl) {
    const task = await must('GET', `/api/v1/tasks/${connection.taskId}`, { token: adminToken })
    await expect(byTest(page, 'temporal-link'), 'the task links to its workflow').toHaveAttribute(
      'href',
      `${cfg.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${cfg.temporalNamespace || 'default'}/workflows/${encodeURIComponent(task.workflowId)}`,
    )
  } else {
    await expect(byTest(page, 'temporal-link'), 'no workflow link without the Temporal UI address').toHaveCount(0)
  }
  await screenshot(page, 'task-detail')
  await byTest(page, 'task-complete').click()
  await expect(byTest(page, 'task-dialog-complete')).toBeVisible()
  await screenshot(page, 'task-complete-dialog')
  await confirmCommand(page, 'Продажи: клиент подтвердил заявку')
  await expect(current).toContainText(connectionProcesses[1])
})

test('on the board, the card is dragged to the next column: the second process', async ({ adminPage: page, adminToken }) => {
  await atProcess(adminToken, connectionProcesses[1])
  await byTest(page, 'nav-board').click()
  const card = page.locator(`[data-testid="board-card"][data-task="${connection.taskId}"]`)
  await expect(card).toBeVisible()
  const fromId = await page.locator('[data-testid="board-column"]', { has: card }).getAttribute('data-process')
  const columns = byTest(page, 'board-column')
  const ids = await columns.evaluateAll((els) => els.map((e) => e.getAttribute('data-process')))
  const next = columns.nth(ids.indexOf(fromId) + 1)
  await screenshot(page, 'board')
  await card.dragTo(next)
  await confirmCommand(page, 'Техническая возможность есть: дом подключён по FTTB')
  await expect(next.locator(`[data-testid="board-card"][data-task="${connection.taskId}"]`)).toBeVisible()
  await atProcess(adminToken, connectionProcesses[2])
  await screenshot(page, 'board-after-drag')
})

test('on the board, the card moves on from the keyboard: the third process', async ({ adminPage: page, adminToken }) => {
  const card = page.locator(`[data-testid="board-card"][data-task="${connection.taskId}"]`)
  await card.focus()
  await page.keyboard.press('ArrowRight')
  await confirmCommand(page, 'Монтаж выполнен, линия проверена')
  await atProcess(adminToken, connectionProcesses[3])
  await expect(page.locator('[data-testid="board-column"][data-process] [data-testid="board-card"]', { hasText: connection.taskNumber })).toBeVisible()
})

test('the task is taken and completed: the fourth process, then the last closes it', async ({ adminPage: page, adminToken }) => {
  const me = await must('GET', '/api/v1/auth/me', { token: adminToken }).catch(() => null)
  await page.goto(`/tasks/${connection.taskId}`)
  await expect(byTest(page, 'route-progress')).toBeVisible()
  await byTest(page, 'task-take').click()
  const assignee = new RegExp([me?.user?.displayName, me?.displayName, 'Administrator', 'Администратор', ADMIN_LOGIN].filter(Boolean).map(escape).join('|'))
  await expect(byTest(page, 'task-assignee')).toContainText(assignee)
  await byTest(page, 'task-complete').click()
  await confirmCommand(page, 'Услуга активирована в биллинге')
  await atProcess(adminToken, connectionProcesses[4])
  await expect(page.locator('[data-testid="progress-step"][data-state="current"]')).toContainText(connectionProcesses[4])
  await byTest(page, 'comment-text').fill('Клиенту позвонили, всё работает')
  await byTest(page, 'comment-submit').click()
  await expect(byTest(page, 'timeline-text').filter({ hasText: 'Клиенту позвонили' })).toBeVisible()
  await byTest(page, 'task-complete').click()
  await confirmCommand(page, 'Контрольный звонок: клиент доволен')
  await expect(page.locator('[data-testid="task-state"][data-state="TASK_STATE_CLOSED"]').first()).toBeVisible()
  const comments = byTest(page, 'timeline-text')
  for (const text of ['Продажи', 'Техническая возможность', 'Монтаж', 'активирована', 'Контрольный звонок', 'Клиенту позвонили']) {
    await expect(comments.filter({ hasText: text }), `the timeline shows the comment “${text}”`).not.toHaveCount(0)
  }
  await expect(byTest(page, 'task-actions'), 'a closed task offers no commands').toHaveCount(0)
  await expect(byTest(page, 'comment-form'), 'a closed task takes no comments').toHaveCount(0)
  await screenshot(page, 'task-closed')
})

test('the contract becomes active', async ({ adminPage: page, adminToken }) => {
  await expect
    .poll(async () => (await must('GET', `/api/v1/contracts/${connection.contractId}`, { token: adminToken })).status, {
      message: 'the contract becomes ACTIVE',
      timeout: 30_000,
    })
    .toBe('CONTRACT_STATUS_ACTIVE')
  await byTest(page, 'task-contract').click()
  await expect(page.locator('[data-testid="contract-facts"] [data-testid="contract-status"][data-status="CONTRACT_STATUS_ACTIVE"]')).toBeVisible()
  await expect(byTest(page, 'connection-task-link').filter({ hasText: connection.taskNumber })).toBeVisible()
  await screenshot(page, 'contract-detail')
})

test('a service task is opened on the contract and cancelled', async ({ adminPage: page, adminToken }) => {
  await byTest(page, 'open-service-task').click()
  const form = byTest(page, 'service-task-dialog')
  await expect(form).toBeVisible()
  await byTest(page, 'service-submit').click()
  await expect(byTest(form, 'field-error').first()).toBeVisible()
  await choose(page, 'service-route', new RegExp(`^${escape(repairRoute)}`))
  await byTest(page, 'service-title').fill('Нет линка после грозы')
  await byTest(page, 'service-description').fill('Клиент сообщает: нет соединения с утра')
  await screenshot(page, 'service-task-dialog')
  await byTest(page, 'service-submit').click()
  await expect(page).toHaveURL(/\/tasks\/\d+$/)
  const serviceTaskId = page.url().split('/').pop() ?? ''
  await expect(byTest(page, 'route-progress')).toBeVisible()
  await byTest(page, 'task-cancel').click()
  const dialog = byTest(page, 'task-dialog-cancel')
  await expect(dialog).toBeVisible()
  await byTest(dialog, 'task-command-submit').click()
  await expect(byTest(dialog, 'field-error')).toBeVisible()
  await byTest(dialog, 'task-command-text').fill('Линия восстановилась сама, выезд не нужен')
  await byTest(dialog, 'task-command-submit').click()
  await expect(page.locator('[data-testid="task-state"][data-state="TASK_STATE_CANCELLED"]').first()).toBeVisible()
  await expect(byTest(page, 'timeline-text').filter({ hasText: 'Линия восстановилась' })).toBeVisible()
  await screenshot(page, 'service-task-cancelled')
  const task = await must('GET', `/api/v1/tasks/${serviceTaskId}`, { token: adminToken })
  expect(task.state).toBe('TASK_STATE_CANCELLED')
  await page.goto(`/contracts/${connection.contractId}`)
  await expect(byTest(byTest(page, 'service-tasks'), 'task-link').first()).toBeVisible()
})

test('the queues list tasks by state and route', async ({ adminPage: page, adminToken }) => {
  // Open tasks for the queues, the dashboard and the viewer: one taken by the admin.
  open = await must('POST', '/api/v1/tasks', {
    token: adminToken,
    body: { contractId: connection.contractId, routeId: '2', title: 'Проверка для наблюдателя' },
  })
  // a tariff change is opened with the tariff it changes to
  const contract = await must('GET', `/api/v1/contracts/${connection.contractId}`, { token: adminToken })
  const made = await must('POST', '/api/v1/tasks', {
    token: adminToken,
    body: { contractId: connection.contractId, routeId: '3', title: 'Перейти на тариф побыстрее', parameters: { tariffId: contract.tariffId } },
  })
  await must('POST', `/api/v1/tasks/${made.id}:assign`, { token: adminToken, body: { processId: made.currentProcess.id } })
  mine = made

  await byTest(page, 'nav-tasks').click()
  await byTest(page, 'queue-all').click()
  await expect(page).toHaveURL(/queue=all/)
  await expect(byTest(page, 'queue-table')).toBeVisible()
  await choose(page, 'filter-state', /Закрытые|Closed/)
  await expect(page).toHaveURL(/state=closed/)
  await expect(byTest(page, 'task-link').filter({ hasText: connection.taskNumber })).toBeVisible()
  await screenshot(page, 'queues')
  await page.goto('/tasks?queue=mine')
  await expect(byTest(byTest(page, 'queue-table'), 'task-link').filter({ hasText: mine.number })).toBeVisible()
  await screenshot(page, 'queue-mine')
  // the task search finds it by its number, and keeps the search in the address
  await page.goto('/tasks?queue=all&state=any')
  await byTest(page, 'task-search').fill(mine.number)
  await byTest(page, 'task-search').press('Enter')
  await expect(page).toHaveURL(/q=T-/)
  await expect(byTest(byTest(page, 'queue-table'), 'task-link').filter({ hasText: mine.number })).toBeVisible()
})

test('the customer shows the contract and its tasks', async ({ adminPage: page }) => {
  await page.goto(`/contracts/${connection.contractId}`)
  await byTest(page, 'contract-customer').click()
  await expect(byTest(page, 'contract-link').filter({ hasText: connection.contractNumber })).toBeVisible()
  await expect(byTest(byTest(page, 'customer-tasks'), 'task-link').filter({ hasText: connection.taskNumber })).toBeVisible()
  await expect
    .poll(
      async () => {
        const aside = await page.locator('aside').boundingBox()
        const pageHeight = Number(await page.evaluate('document.documentElement.scrollHeight'))
        return !!aside && aside.height >= pageHeight - 1
      },
      { message: "the sidebar's panel spans the whole page" },
    )
    .toBe(true)
  await screenshot(page, 'customer-with-contracts')
})

test('tariffs: one is created, changed and taken off the offer', async ({ adminPage: page, adminToken }) => {
  await byTest(page, 'nav-tariffs').click()
  await expect(byTest(page, 'tariffs-table')).toBeVisible()
  await byTest(page, 'tariff-new').click()
  // The dialog focuses its first field once it has opened; typing before
  // that would land in whichever field had focus then.
  await expect(byTest(page, 'tariff-name')).toBeFocused()
  const name = `Е2Е Гига ${run}`
  await byTest(page, 'tariff-name').fill(name)
  await byTest(page, 'tariff-technology').fill('gpon')
  // a number field may drop what is typed while it is still settling:
  // type again until it holds the value
  for (const [field, value] of [
    ['#tariff-speed', '500'],
    ['#tariff-fee', '990'],
  ]) {
    await expect(async () => {
      await page.locator(field).fill(value)
      await expect(page.locator(field)).toHaveValue(value, { timeout: 1000 })
    }).toPass()
  }
  await screenshot(page, 'tariff-dialog')
  await byTest(page, 'tariff-submit').click()
  await expect(byTest(page, 'tariff-dialog')).toHaveCount(0)
  const row = page.locator('[data-testid="tariffs-table"] tr', { hasText: name })
  await expect(row).toBeVisible()
  await byTest(row, 'tariff-edit').click()
  // the edit dialog's number field settles as the create dialog's does
  await expect(async () => {
    await page.locator('#tariff-speed').fill('600')
    await expect(page.locator('#tariff-speed')).toHaveValue('600', { timeout: 1000 })
  }).toPass()
  await byTest(page, 'tariff-submit').click()
  await expect(byTest(page, 'tariff-dialog')).toHaveCount(0)
  await expect(row).toContainText('600')
  await byTest(row, 'tariff-toggle').click()
  await page.locator('.p-confirmdialog-accept-button').click()
  await expect(row.locator('.p-tag', { hasText: /Не предлагается|Not offered/ })).toBeVisible()
  const all = await must('GET', '/api/v1/tariffs?includeInactive=true&pageSize=100', { token: adminToken })
  const made = (all.tariffs ?? []).find((t: any) => t.name === name)
  expect(made?.speedMbps, 'the change was saved').toBe(600)
  expect(made?.technology, 'the technology is upper-cased').toBe('GPON')
  expect(made?.monthlyFee?.amountMinor, 'the fee is kept in kopecks').toBe('99000')
  expect(made?.active, 'the tariff is deactivated').toBe(false)
  await screenshot(page, 'tariffs')
})

test('routes: a new route is built, reordered and saved as a new version; a stale edit is refused', async ({ adminPage: page, adminToken }) => {
  await byTest(page, 'nav-routes').click()
  await expect(byTest(page, 'routes-list')).toBeVisible()
  await byTest(page, 'route-item').first().click()
  await expect(byTest(page, 'route-editor')).toBeVisible()
  await screenshot(page, 'routes-connection')

  await byTest(page, 'route-new').click()
  const name = `Е2Е Смена оборудования ${run}`
  await byTest(page, 'route-name').fill(name)
  await choose(page, 'route-effect', /Договор не меняется|stays as it is/)
  await byTest(page, 'process-name').nth(0).fill('Выезд монтажника')
  await choose(page, 'process-group', groupName['3'])
  await byTest(page.locator('[data-testid="route-process"]').nth(0), 'process-sla').locator('input').fill('24')
  await byTest(page, 'process-add').click()
  await byTest(page, 'process-name').nth(1).fill('Проверка заявки')
  await choose(page, byTest(page, 'process-group').nth(1), groupName['1'])
  // The check comes first: move it up.
  await byTest(page, 'process-up').nth(1).click()
  await expect(byTest(page, 'process-name').nth(0)).toHaveValue('Проверка заявки')
  await byTest(page, 'rule-add').click()
  await byTest(page, 'rule-resolution').fill('customer_refused')
  await choose(page, 'rule-process', /^2\. /)
  await screenshot(page, 'routes-editor-new')
  await byTest(page, 'route-save').click()
  await expect(page).toHaveURL(/\/settings\/routes\/\d+$/)
  await expect(byTest(page, 'route-version')).toBeVisible()
  const routeId = page.url().split('/').pop() ?? ''
  const saved = await must('GET', `/api/v1/routes/${routeId}`, { token: adminToken })
  expect(saved.processes.map((p: any) => p.name)).toEqual(['Проверка заявки', 'Выезд монтажника'])
  expect(saved.processes[1].slaSeconds, 'the SLA is kept in seconds').toBe('86400')
  const rule = saved.closeRules.find((r: any) => r.kind === 'CLOSE_RULE_KIND_RESOLUTION')
  expect(rule?.processId, 'the rule names the second process').toBe(saved.processes[1].id)

  // Someone else saves a version meanwhile; this editor's save is refused.
  await must('PATCH', `/api/v1/routes/${routeId}?expectedVersion=${saved.version}`, {
    token: adminToken,
    body: { name: `${name} (2)`, processes: saved.processes, closeRules: saved.closeRules, contractEffect: saved.contractEffect },
  })
  await byTest(page, 'process-down').nth(0).click()
  await byTest(page, 'route-save').click()
  await expect(byTest(page, 'route-stale')).toBeVisible()
  await screenshot(page, 'routes-stale')
  await byTest(page, 'route-reload').click()
  await expect(byTest(page, 'route-version')).toContainText('2')
  await byTest(page, 'process-down').nth(0).click()
  await byTest(page, 'route-save').click()
  await expect(byTest(page, 'route-version')).toContainText('3')
  const v3 = await must('GET', `/api/v1/routes/${routeId}`, { token: adminToken })
  expect(v3.processes.map((p: any) => p.name)).toEqual(['Выезд монтажника', 'Проверка заявки'])
  await screenshot(page, 'routes-editor')
})

test('home shows the queues, breaches and the load per process', async ({ adminPage: page }) => {
  await byTest(page, 'nav-home').click()
  await expect(byTest(page, 'home-counters')).toBeVisible()
  await expect(byTest(page, 'home-process-load')).toBeVisible()
  // search comes first; the Telegram panel stays away while the bot is off
  await expect(byTest(page, 'home-search')).toBeVisible()
  await expect(byTest(page, 'home-notifications')).toHaveCount(0)
  await expect(byTest(byTest(page, 'home-my-list'), 'mini-task').filter({ hasText: mine.number })).toBeVisible()
  await expect(byTest(page, 'process-load').first()).toBeVisible()
  await screenshot(page, 'home-dashboard')
})

test('the settings screens open', async ({ adminPage: page, viewerAccount }) => {
  for (const [nav, ready, name] of [
    ['nav-users', 'users-table', 'settings-users'],
    ['nav-groups', 'groups-list', 'settings-groups'],
    ['nav-roles', 'roles-matrix', 'settings-roles'],
    ['nav-audit', 'audit-table', 'settings-audit'],
  ]) {
    await byTest(page, nav).click()
    await expect(byTest(page, ready)).toBeVisible()
    if (name === 'settings-groups' && (await byTest(page, 'group-item').count()) > 0) {
      await byTest(page, 'group-item').first().click()
      await expect(byTest(page, 'members-table')).toBeVisible()
    }
    await screenshot(page, name)
  }
  await byTest(page, 'nav-users').click()
  await expect(page.locator('[data-testid="users-table"] tr', { hasText: viewerAccount.login })).toBeVisible()
})

test('the profile shows the Telegram link state', async ({ adminPage: page }) => {
  await byTest(page, 'user-menu').click()
  await page.getByRole('menuitem').first().click()
  await expect(page).toHaveURL(/\/profile$/)
  await expect(byTest(page, 'telegram-panel')).toBeVisible()
  await screenshot(page, 'profile')
  await byTest(page, 'telegram-link').click()
  await expect(byTest(page, 'telegram-code').or(byTest(page, 'load-error'))).toBeVisible()
  await screenshot(page, 'profile-telegram-code')
})

test('every main page passes axe with no critical or serious violation', async ({ adminPage: page }) => {
  // axe reads every element of 21 pages: minutes on a busy machine
  test.setTimeout(300_000)
  const walk = [
    ['home', '/', 'greeting'],
    ['customers', '/customers', 'customers-table'],
    ['customer-new', '/customers/new', 'customer-form'],
    ['customer', `/customers/${customerId}`, 'phones-panel'],
    ['contract', `/contracts/${connection.contractId}`, 'contract-facts'],
    ['tasks', '/tasks?queue=all', 'queue-table'],
    ['task', `/tasks/${connection.taskId}`, 'route-progress'],
    ['board', '/board/1', 'board'],
    ['wizard', '/connections/new', 'wizard-customer'],
    ['tariffs', '/settings/tariffs', 'tariffs-table'],
    ['routes', '/settings/routes/1', 'route-editor'],
    ['users', '/settings/users', 'users-table'],
    ['groups', '/settings/groups', 'groups-list'],
    ['roles', '/settings/roles', 'roles-matrix'],
    ['customer-messages', '/settings/customer-messages', 'templates'],
    ['api-tokens', '/settings/api-tokens', 'tokens-table'],
    ['audit', '/settings/audit', 'audit-table'],
    ['webhooks', '/settings/webhooks', 'webhooks-table'],
    ['calendars', '/settings/calendars', 'calendars-table'],
    ['reports', '/reports', 'report-processes-table'],
    ['profile', '/profile', 'telegram-panel'],
  ]
  for (const [name, path, ready] of walk) {
    await page.goto(path)
    await expect(byTest(page, ready).first()).toBeVisible()
    axeFindings.push(...(await audit(page, name)))
  }
  const byImpact: Record<string, number> = {}
  for (const f of axeFindings) byImpact[f.impact] = (byImpact[f.impact] ?? 0) + f.nodes
  const pages = new Set(axeFindings.map((f) => f.page)).size
  test.info().annotations.push({ type: 'axe', description: `${walk.length} pages, ${pages} with findings; elements by impact: ${JSON.stringify(byImpact)}` })
  expect(
    axeFindings.filter((f) => BLOCKING.includes(f.impact)),
    'no critical or serious accessibility violation',
  ).toEqual([])
})

test('at tablet width the menu folds into a drawer', async ({ adminPage: page }) => {
  await page.setViewportSize({ width: 768, height: 1024 })
  await page.goto(`/customers/${customerId}`)
  await expect(byTest(page, 'phones-panel')).toBeVisible()
  await expect(page.locator('aside [data-testid="app-nav"]'), 'the folded sidebar draws no links').toHaveCount(0)
  await screenshot(page, 'tablet-customer')
  await byTest(page, 'nav-toggle').click()
  await expect(page.locator('.p-drawer [data-testid="nav-customers"]')).toBeVisible()
  await screenshot(page, 'tablet-menu')
  await page.keyboard.press('Escape')
  await page.setViewportSize({ width: 1280, height: 800 })
  await expect(page.locator('aside [data-testid="app-nav"]'), 'widened, the sidebar draws its links').toBeVisible()
  await page.setViewportSize({ width: 768, height: 1024 })
  await page.goto(`/tasks/${connection.taskId}`)
  await expect(byTest(page, 'route-progress')).toBeVisible()
  await screenshot(page, 'tablet-task')
  await page.goto('/board/1')
  await expect(byTest(page, 'board')).toBeVisible()
  await screenshot(page, 'tablet-board')
  await page.goto('/connections/new')
  await expect(byTest(page, 'wizard-customer')).toBeVisible()
  await screenshot(page, 'tablet-wizard')
})

test('the admin signs out', async ({ adminPage: page }) => {
  await page.setViewportSize({ width: 1280, height: 800 })
  await byTest(page, 'user-menu').click()
  await page.getByRole('menuitem').last().click()
  await expect(page).toHaveURL(/\/login/)
})

test('an operator works customers and connections but changes no settings', async ({ operatorPage: page, operatorAccount }) => {
  await expect(byTest(page, 'nav-users'), 'no Users entry for an operator').toHaveCount(0)
  await expect(byTest(page, 'nav-audit'), 'no Audit entry for an operator').toHaveCount(0)
  await byTest(page, 'nav-customers').click()
  await expect(byTest(page, 'customers-table')).toBeVisible()
  await expect(byTest(page, 'customer-new'), 'an operator registers customers').toBeVisible()
  await page.goto('/connections/new')
  await expect(byTest(page, 'wizard-customer'), 'an operator opens connections').toBeVisible()
  await page.goto(`/tasks/${open.id}`)
  await expect(byTest(page, 'route-progress')).toBeVisible()
  // comments come from the current process's group (or a supervisor); this
  // operator is in none of the groups
  await expect(byTest(page, 'comment-form'), 'an operator outside the group reads but does not comment').toHaveCount(0)
  await page.goto('/settings/tariffs')
  await expect(byTest(page, 'tariffs-table')).toBeVisible()
  await expect(byTest(page, 'tariff-new'), 'an operator changes no tariff').toHaveCount(0)
  await expect(byTest(page, 'tariff-edit')).toHaveCount(0)
  await page.goto('/settings/routes/1')
  await expect(byTest(page, 'route-editor')).toBeVisible()
  await expect(byTest(page, 'route-save'), 'an operator saves no route').toHaveCount(0)
  await screenshot(page, 'operator-routes')
  const token = await signInByApi(operatorAccount.login, operatorAccount.password)
  const r = await call('POST', '/api/v1/users', {
    token,
    body: { login: `x-${run}`, displayName: 'x', password: 'Pw-xxxxxxxxxxxx', roles: ['admin'], active: true },
  })
  expect(r.status, "an operator's new user is refused with 403").toBe(403)
})

test('a viewer sees customers but no way to change them', async ({ viewerPage: page }) => {
  await expect(byTest(page, 'nav-users'), 'no Users entry for a viewer').toHaveCount(0)
  await expect(byTest(page, 'nav-audit'), 'no Audit entry for a viewer').toHaveCount(0)
  await expect(byTest(page, 'shortcut-new-customer'), 'no new-customer shortcut').toHaveCount(0)

  await byTest(page, 'nav-customers').click()
  await expect(byTest(page, 'customers-table')).toBeVisible()
  await expect(byTest(page, 'customer-new'), 'no New customer button').toHaveCount(0)

  await page.goto(`/customers/${customerId}`)
  await expect(byTest(page, 'phones-panel')).toBeVisible()
  for (const id of ['customer-edit', 'phone-remove', 'phone-add-form', 'new-phone-number']) {
    await expect(byTest(page, id), `a viewer has no ${id}`).toHaveCount(0)
  }
  await screenshot(page, 'viewer-customer')

  await page.goto('/customers/new')
  await expect(page).toHaveURL(/\/forbidden/)
  await screenshot(page, 'viewer-forbidden')

  await byTest(page, 'nav-groups').click()
  await expect(byTest(page, 'groups-list')).toBeVisible()
  if ((await byTest(page, 'group-item').count()) > 0) {
    await byTest(page, 'group-item').first().click()
    await expect(byTest(page, 'members-table')).toBeVisible()
  }
  for (const id of ['group-new', 'member-add', 'member-remove']) {
    await expect(byTest(page, id), `a viewer has no ${id}`).toHaveCount(0)
  }
  await screenshot(page, 'viewer-groups')
})

test('a viewer sees tasks, contracts and the board but no way to move a task', async ({ viewerPage: page, viewerAccount }) => {
  await page.goto(`/tasks/${open.id}`)
  await expect(byTest(page, 'route-progress')).toBeVisible()
  await expect(byTest(page, 'timeline')).toBeVisible()
  for (const id of ['task-actions', 'task-take', 'task-complete', 'task-return', 'task-assign', 'task-cancel', 'comment-form']) {
    await expect(byTest(page, id), `a viewer has no ${id}`).toHaveCount(0)
  }
  await screenshot(page, 'viewer-task')

  await page.goto(`/contracts/${connection.contractId}`)
  await expect(byTest(page, 'contract-facts')).toBeVisible()
  await expect(byTest(page, 'open-service-task'), 'a viewer opens no service task').toHaveCount(0)

  await page.goto('/board/2')
  const card = page.locator(`[data-testid="board-card"][data-task="${open.id}"]`)
  await expect(card).toBeVisible()
  await expect(card, 'a viewer cannot drag a card').toHaveAttribute('draggable', 'false')
  await expect(byTest(card, 'card-forward'), 'a viewer has no move buttons').toHaveCount(0)
  await card.focus()
  await page.keyboard.press('ArrowRight')
  await expect(byTest(page, 'task-dialog-complete'), 'the keyboard moves nothing for a viewer').toHaveCount(0)
  await screenshot(page, 'viewer-board')

  await page.goto('/settings/routes/1')
  await expect(byTest(page, 'route-editor')).toBeVisible()
  await expect(byTest(page, 'route-save'), 'a viewer saves no route').toHaveCount(0)
  await page.goto('/settings/tariffs')
  await expect(byTest(page, 'tariffs-table')).toBeVisible()
  await expect(byTest(page, 'tariff-new'), 'a viewer changes no tariff').toHaveCount(0)
  await expect(byTest(page, 'tariff-edit'), 'a viewer changes no tariff').toHaveCount(0)
  await page.goto('/connections/new')
  await expect(page).toHaveURL(/\/forbidden/)

  const token = await signInByApi(viewerAccount.login, viewerAccount.password)
  const r = await call('POST', `/api/v1/tasks/${open.id}:cancel`, { token, body: { reason: 'x' } })
  expect(r.status, "a viewer's cancel is refused with 403").toBe(403)
})

test('the server refuses a viewer’s write too', async ({ viewerAccount }) => {
  const token = await signInByApi(viewerAccount.login, viewerAccount.password)
  const r = await call('POST', '/api/v1/customers', { token, body: { name: 'x', phones: [{ number: asLocal(mobile('915')) }] } })
  expect(r.status, "a viewer's create is refused with 403").toBe(403)
})
