import { defineConfig } from '@playwright/test';

// Debian's Chromium (apt-get install chromium): browser downloads cannot work here, so Playwright launches it by
// its path. WEB_URL (the app on S3) and API_BASE_URL come from infra/web-test.sh.
export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/warm-up.ts',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/playwright',
  use: {
    baseURL: process.env.WEB_URL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    },
  },
});
