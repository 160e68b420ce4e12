// Who may do what, as an admin runs it: a role of their own made from the
// permissions, changed and removed; a token for a program made on its
// screen, shown once, working on the REST API, then revoked there and
// refused at once; a customer search saved as CSV with its filter; and each of
// these in the audit log in words.
// Screenshots: the role dialog, the token shown once, the tokens list.

import { readFileSync } from 'node:fs'
import { byTest, call, data, expect, must, screenshot, test } from './fixtures'

test.describe.configure({ mode: 'serial' })

const role = `desk-${data.run}`.toLowerCase().replace(/[^a-z0-9_-]/g, '')

test('a custom role is made from permissions, changed and removed', async ({ adminPage: page, adminToken }) => {
  await page.goto('/settings/roles')
  await expect(byTest(page, 'roles-matrix')).toBeVisible()
  await byTest(page, 'role-new').click()
  const dialog = byTest(page, 'role-dialog')
  await byTest(dialog, 'role-name').fill('Desk 1')
  await byTest(dialog, 'role-submit').click()
  await expect(dialog.getByRole('alert').first(), 'a name that is not a code is refused where it is typed').toBeVisible()
  await byTest(dialog, 'role-name').fill(role)
  await byTest(dialog, 'role-description').fill('Ночная смена')
  await dialog.locator('[data-testid="perm-tasks.read"] input').check()
  await dialog.locator('[data-testid="perm-customers.read"] input').check()
  await screenshot(page, 'role-new')
  await byTest(dialog, 'role-submit').click()
  await expect(dialog).toBeHidden()
  const column = byTest(page, `role-col-${role}`)
  await expect(column).toContainText('Ночная смена')

  const made = (await must('GET', '/api/v1/roles', { token: adminToken })).roles.find((r: { name: string }) => r.name === role)
  expect(made?.permissions?.sort()).toEqual(['customers.read', 'tasks.read'])

  await byTest(page, `role-edit-${role}`).click()
  await dialog.locator('[data-testid="perm-customers.read"] input').uncheck()
  await dialog.locator('[data-testid="perm-tasks.work"] input').check()
  await byTest(dialog, 'role-submit').click()
  await expect(dialog).toBeHidden()
  const changed = (await must('GET', '/api/v1/roles', { token: adminToken })).roles.find((r: { name: string }) => r.name === role)
  expect(changed?.permissions?.sort()).toEqual(['tasks.read', 'tasks.work'])

  await byTest(page, `role-edit-${role}`).click()
  await byTest(dialog, 'role-remove').click()
  await page
    .getByRole('alertdialog')
    .getByRole('button', { name: /Удалить роль|Remove role/ })
    .click()
  await expect(column).toHaveCount(0)
  expect((await must('GET', '/api/v1/roles', { token: adminToken })).roles.some((r: { name: string }) => r.name === role)).toBe(false)
})

test('a token made on its screen works on the REST API until it is revoked there', async ({ adminPage: page }) => {
  await page.goto('/settings/api-tokens')
  await expect(byTest(page, 'tokens-table')).toBeVisible()
  await byTest(page, 'token-new').click()
  const dialog = byTest(page, 'token-dialog')
  const name = `Биллинг ${data.run}`
  await byTest(dialog, 'token-name').fill(name)
  await byTest(dialog, 'token-roles').click()
  await page.getByRole('option', { name: /Наблюдатель|Viewer/ }).click()
  await page.keyboard.press('Escape')
  await byTest(dialog, 'token-submit').click()
  const value = byTest(dialog, 'token-value')
  await expect(value).toHaveValue(/^crm_/)
  const token = await value.inputValue()
  await screenshot(page, 'api-token-shown-once')
  await byTest(dialog, 'token-done').click()
  await expect(dialog).toBeHidden()

  expect((await call('GET', '/api/v1/customers?pageSize=1', { token })).status, 'the token reads as a viewer').toBe(200)
  expect(
    (await call('POST', '/api/v1/customers', { token, body: { name: 'x', phones: [{ number: data.asLocal(data.mobile('915')) }] } })).status,
    'and writes nothing',
  ).toBe(403)

  const row = page.locator('[data-testid="tokens-table"] tr', { hasText: name })
  await expect(byTest(row, 'token-state')).toHaveText(/Действует|Active/)
  await screenshot(page, 'api-tokens')
  await byTest(row, 'token-revoke').click()
  await page
    .getByRole('alertdialog')
    .getByRole('button', { name: /Отозвать|Revoke/ })
    .click()
  await expect(byTest(row, 'token-state')).toHaveText(/Отозван|Revoked/)
  expect((await call('GET', '/api/v1/customers?pageSize=1', { token })).status, 'a revoked token is refused').toBe(401)
})

test('a customer search is saved as CSV with its filter, headed in the reader’s language', async ({ adminPage: page, adminToken }) => {
  const names = [`Выгрузка ${data.run} Анна`, `Выгрузка ${data.run} Борис`]
  for (const name of names)
    await must('POST', '/api/v1/customers', { token: adminToken, body: { name, phones: [{ number: data.asLocal(data.mobile('916')) }] } })
  await page.goto(`/customers?q=${encodeURIComponent(data.run)}`)
  await expect(page.locator('[data-testid="customers-table"] tbody tr')).toHaveCount(2)
  const [download] = await Promise.all([page.waitForEvent('download'), byTest(page, 'export-csv').click()])
  expect(download.suggestedFilename()).toMatch(/^customers-\d{4}-\d{2}-\d{2}\.csv$/)
  const text = readFileSync(await download.path(), 'utf8')
  expect(text.charCodeAt(0), 'a byte order mark, so spreadsheets read Cyrillic').toBe(0xfeff)
  const [head, ...rows] = text.slice(1).trim().split(/\r?\n/)
  expect(head).toMatch(/^(Код,Имя|Id,Name),/)
  expect(rows, 'exactly the customers the search shows').toHaveLength(2)
  for (const name of names) expect(rows.some((r) => r.includes(name))).toBe(true)
})

test('the audit log says each of these in words', async ({ adminPage: page }) => {
  await page.goto('/settings/audit')
  await expect(byTest(page, 'audit-table')).toBeVisible()
  const table = byTest(page, 'audit-table')
  for (const action of [
    /Новая роль|New role/,
    /Изменение роли|Role changed/,
    /Роль удалена|Role removed/,
    /Новый API-токен|New API token/,
    /API-токен отозван|API token revoked/,
  ]) {
    await expect(table.getByText(action).first()).toBeVisible()
  }
  await expect(table, 'no action is shown as its code').not.toContainText(/\b(role|token)\.(create|update|delete|revoke|use)\b/)
})
