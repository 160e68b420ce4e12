// How urgent a task is, as a supervisor sets it: a new connection's task is
// made urgent on its page; the header, the timeline and the API say so, and
// on the board it heads its column.
// Screenshot: the task page after the change.

import { ADMIN_LOGIN, ADMIN_PASSWORD, byTest, choose, data, expect, must, screenshot, signIn, test } from './fixtures'

test('a supervisor makes a task urgent; it says so everywhere and heads its column on the board', async ({ adminPage: page, adminToken }) => {
  const tariffs = await must('GET', '/api/v1/tariffs?pageSize=1', { token: adminToken })
  const made = await must('POST', '/api/v1/connections', {
    token: adminToken,
    body: {
      customer: { kind: 'CUSTOMER_KIND_PERSON', name: `Срочный ${data.run}`, phones: [{ number: data.asLocal(data.mobile('916')) }] },
      tariffId: tariffs.tariffs[0].id,
      address: 'Москва, ул. Арбат, д. 1, кв. 2',
    },
  })
  const id = String(made.task.id)
  await page.goto(`/tasks/${id}`)
  // the admin's page is shared by the run's files, and the console's suite ends signed out
  const login = page.locator('#login')
  await expect(byTest(page, 'task-priority-select').or(login)).toBeVisible()
  if (await login.isVisible()) {
    await signIn(page, ADMIN_LOGIN, ADMIN_PASSWORD)
    await page.goto(`/tasks/${id}`)
  }
  await expect(byTest(page, 'task-priority-select')).toBeVisible()
  await expect(page.locator('[data-testid="task-priority"]'), 'a normal task shows no priority tag').toHaveCount(0)
  await choose(page, byTest(page, 'task-priority-select'), /срочный|urgent/)
  await expect(page.locator('[data-testid="task-priority"][data-priority="urgent"]').first()).toBeVisible()
  await expect(byTest(page, 'timeline')).toContainText(/изменил приоритет: срочный|set the priority: urgent/)
  await screenshot(page, 'task-urgent')
  expect((await must('GET', `/api/v1/tasks/${id}`, { token: adminToken })).priority).toBe('TASK_PRIORITY_URGENT')

  await page.goto(`/board/${made.task.routeId}`)
  const card = page.locator(`[data-testid="board-card"][data-task="${id}"]`)
  await expect(card.locator('[data-testid="task-priority"]')).toHaveAttribute('data-priority', 'urgent')
  const column = page.locator('[data-testid="board-column"]', { has: card })
  await expect(column.locator('[data-testid="board-card"]').first()).toHaveAttribute('data-task', id)
})
