import { defineConfig } from 'vitest/config'

export default defineConfig({
  cacheDir: '../node_modules/.vite',
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    environment: 'happy-dom',
    restoreMocks: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 20_000,
  },
})
