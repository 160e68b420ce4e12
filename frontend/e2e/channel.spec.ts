// What customers are told and may ask for, as an admin sets it: a message
// text with a placeholder the message does not fill is refused where it is
// typed; a good one is previewed with sample values and saved, then put back
// to the default; a request kind is added on a service route and is there
// after a reload; route No. 1's welcome call is shown in the route editor.
// Screenshot: the page with a text being edited.

import { byTest, choose, expect, must, screenshot, test } from './fixtures'

test.describe.configure({ mode: 'serial' })

test('customer messages: a text is refused, previewed, saved and restored; a request kind is added', async ({ adminPage: page, adminToken }) => {
  await page.goto('/settings/customer-messages')
  const opened = byTest(page, 'template')
    .filter({ hasText: /Договор открыт|Contract opened/ })
    .first()
  await expect(opened).toBeVisible()
  await byTest(opened, 'template-edit').click()
  const text = byTest(opened, 'template-text')
  await text.fill('Выезд {visit} назначен')
  await byTest(opened, 'template-save').click()
  await expect(opened.getByRole('alert'), 'the unknown placeholder is named where it was typed').toContainText('{visit}')

  await text.fill('Здравствуйте! Договор  открыт.')
  await text.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(22, 22))
  await byTest(opened, 'placeholder').filter({ hasText: '{contract}' }).click()
  await expect(text).toHaveValue('Здравствуйте! Договор {contract} открыт.')
  await expect(byTest(opened, 'template-preview'), 'the preview fills the placeholder').not.toContainText('{contract}')
  await screenshot(page, 'customer-messages-edit')
  await byTest(opened, 'template-save').click()
  await expect(byTest(opened, 'template-custom')).toBeVisible()
  const saved = await must('GET', '/api/v1/customerTemplates', { token: adminToken })
  const mine = saved.templates.find((t: { milestone: string; custom?: boolean; text: string }) => t.milestone === 'contract_opened' && t.custom)
  expect(mine?.text).toBe('Здравствуйте! Договор {contract} открыт.')

  await byTest(opened, 'template-restore').click()
  await page
    .getByRole('alertdialog')
    .getByRole('button', { name: /Вернуть исходный|Restore the default/ })
    .click()
  await expect(byTest(opened, 'template-custom')).toHaveCount(0)

  const before = await byTest(page, 'request-kind').count()
  await byTest(page, 'kind-add').click()
  const added = byTest(page, 'request-kind').nth(before)
  await byTest(added, 'kind-label').fill('Смена адреса')
  await choose(page, byTest(added, 'kind-route'), /Ремонт|Repair/)
  await byTest(page, 'kinds-save').click()
  await expect(byTest(page, 'kinds-save')).toBeDisabled()
  await page.reload()
  await expect(byTest(page, 'kind-label').nth(before)).toHaveValue('Смена адреса')
})

test('route No. 1 shows its welcome call among its follow-up tasks', async ({ adminPage: page }) => {
  await page.goto('/settings/routes/1')
  const followUp = byTest(page, 'route-followup')
  await expect(followUp).toHaveCount(1)
  await expect(byTest(followUp, 'followup-after')).toBeVisible()
  await expect(byTest(followUp, 'followup-title')).toHaveValue(/Приветственный звонок|Welcome call/)
})
