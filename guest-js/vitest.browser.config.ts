import { defineConfig } from 'vitest/config'

// The real-browser tests (browser-test/): Chromium driven by playwright-core.
// Node environment; one file, run serially, since the tabs share one browser.
export default defineConfig({
  cacheDir: '../node_modules/.vite',
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['browser-test/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './test/support/summary-reporter.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
