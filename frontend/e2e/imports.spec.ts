// Bringing an existing customer base in, as an admin does on Settings →
// Import: a CSV file with good rows, a row with a wrong number and a row
// with an unknown tariff is checked; the two bad rows are listed with their
// problems; the good rows are imported (asked first), the run is followed
// until it is done, and a customer it made is found by the customer search.
// The screen passes axe and fits a 390 px phone.
// Screenshots: the check with its problems, the finished import.

import { audit, BLOCKING, byTest, data, expect, must, openSignedIn, screenshot, test } from './fixtures'

test.describe.configure({ mode: 'serial' })

/** A CSV cell, quoted when it holds the separator, a quote or a line break. */
const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
const csv = (rows: string[][]) => '\ufeff' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'

const fileName = `база-${data.run}.csv`
const name = (n: number) => `Импорт ${data.run} ${n}`
// unique to the run: no registered customer holds them
const phones = [data.mobile('916'), data.mobile('916'), data.mobile('916'), data.mobile('916')]

test('a CSV file is checked, its problems listed, its good rows imported, and an imported customer is found', async ({ adminPage: page, adminToken }) => {
  const tariffs = (await must('GET', '/api/v1/tariffs?pageSize=100', { token: adminToken })).tariffs as {
    id: string
    name: string
    active?: boolean
    customerKind?: string
  }[]
  const tariff = tariffs.find((t) => t.active && t.customerKind === 'CUSTOMER_KIND_PERSON')
  expect(tariff, 'an active tariff for people to import contracts on').toBeTruthy()

  const file = csv([
    ['Внешний код', 'Имя', 'Телефоны', 'Адрес', 'Тариф', 'Состояние договора'],
    // line 2: a contract in force, written as it stands
    [`${data.run}-1`, name(1), data.asIntl(phones[0]!), 'Москва, ул. Тверская, д. 1', tariff!.id, 'действует'],
    // line 3: a customer with no contract
    [`${data.run}-2`, name(2), data.asLocal(phones[1]!), 'Москва, ул. Тверская, д. 2', '', ''],
    // line 4: a contract to connect (the default), with its connection task
    [`${data.run}-3`, name(3), data.asIntl(phones[2]!), 'Москва, ул. Тверская, д. 3', tariff!.id, ''],
    // line 5: not a phone number
    [`${data.run}-4`, name(4), '12-34', 'Москва, ул. Тверская, д. 4', '', ''],
    // line 6: no such tariff
    [`${data.run}-5`, name(5), data.asIntl(phones[3]!), 'Москва, ул. Тверская, д. 5', `Нет такого тарифа ${data.run}`, ''],
  ])

  await openSignedIn(page, '/settings/imports', 'import-upload')
  await byTest(page, 'import-file').setInputFiles({ name: fileName, mimeType: 'text/csv', buffer: Buffer.from(file, 'utf8') })

  const card = byTest(page, 'import-card')
  await expect(card).toHaveAttribute('data-state', 'IMPORT_STATE_CHECKED')
  await expect(byTest(card, 'import-file-name')).toHaveText(fileName)
  await expect(page, 'the import shown is in the address').toHaveURL(/[?&]id=\d+/)
  await expect(byTest(card, 'import-total')).toHaveText('5')
  await expect(byTest(card, 'import-problem-rows')).toHaveText('2')
  await expect(byTest(card, 'import-customers')).toHaveText('3')
  await expect(byTest(card, 'import-to-connect')).toHaveText('1')
  await expect(byTest(card, 'import-as-is')).toHaveText('1')

  const problems = byTest(page, 'import-problems-table')
  await expect(byTest(problems, 'problem-line')).toHaveText(['5', '6'])
  await expect(byTest(problems, 'problem-text').nth(0)).toHaveAttribute('data-code', 'PHONE_INVALID')
  await expect(byTest(problems, 'problem-text').nth(1)).toHaveAttribute('data-code', 'TARIFF_UNKNOWN')
  await expect(byTest(problems, 'problem-value')).toHaveText(['12-34', `Нет такого тарифа ${data.run}`])
  // the console words the codes itself, in the reader's language
  await expect(byTest(problems, 'problem-text').nth(0)).not.toContainText('"12-34"')
  await expect(byTest(page, 'import-list-table')).toContainText(fileName)
  await screenshot(page, 'import-checked')
  const findings = await audit(page, 'imports')
  expect(findings.filter((f) => BLOCKING.includes(f.impact))).toEqual([])

  // a reload keeps the import
  await page.reload()
  await expect(byTest(page, 'import-file-name')).toHaveText(fileName)

  // on a phone the screen fits: nothing scrolls sideways
  await page.setViewportSize({ width: 390, height: 844 })
  await expect(byTest(page, 'import-problems-table')).toBeVisible()
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true)
  await page.setViewportSize({ width: 1280, height: 800 })

  await byTest(page, 'import-run').click()
  await expect(page.locator('.p-confirmdialog')).toContainText(fileName)
  await page.locator('.p-confirmdialog-accept-button').click()
  await expect(card).toHaveAttribute('data-state', 'IMPORT_STATE_DONE', { timeout: 60_000 })
  await expect(byTest(card, 'import-progress')).toHaveAttribute('aria-valuenow', '100')
  await expect(byTest(card, 'import-customers-created')).toHaveText('3')
  await expect(byTest(card, 'import-contracts-created')).toHaveText('2')
  await expect(byTest(card, 'import-stop')).toHaveCount(0)
  await screenshot(page, 'import-done')
  await page.screenshot({ path: test.info().outputPath('import-done.png'), fullPage: true })

  // the rows with problems were skipped
  const skipped = await must('GET', `/api/v1/customers?query=${encodeURIComponent(name(4))}`, { token: adminToken })
  expect(skipped.customers ?? []).toHaveLength(0)

  // an imported customer is found by its number as the operator types it
  await byTest(page, 'nav-customers').click()
  await byTest(page, 'customer-search').fill(phones[0]!)
  await expect(byTest(page, 'customer-link').filter({ hasText: name(1) })).toBeVisible()
})
