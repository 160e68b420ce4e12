// The console's browser tests (e2e/), run against a stack that is already up:
//
//   E2E_BASE_URL=http://127.0.0.1:8080 E2E_ADMIN_PASSWORD=… npx playwright test
//
// `make e2e` starts a private stack and runs them (deploy/scripts/e2e.sh).
// The browser is Debian's Chromium (no browser download): E2E_CHROMIUM
// overrides its path.

import { defineConfig } from '@playwright/test'
import { BASE, CHROMIUM, CONTEXT, TIMEOUT } from './e2e/env'

export default defineConfig({
  testDir: './e2e',
  // One stack, one story: the steps build on one another, in order.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // A failed run is tried once more (in CI), with a trace of both attempts kept.
  retries: process.env.CI ? 1 : 0,
  timeout: 90_000,
  expect: { timeout: TIMEOUT },
  outputDir: './test-results',
  reporter: [['list'], ['html', { outputFolder: './playwright-report', open: 'never' }]],
  use: {
    ...CONTEXT,
    baseURL: BASE,
    actionTimeout: TIMEOUT,
    navigationTimeout: TIMEOUT,
    trace: 'retain-on-failure-and-retries',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  projects: [{ name: 'chromium' }],
})
