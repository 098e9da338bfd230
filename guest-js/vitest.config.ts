import { transform } from 'esbuild'
import { compileModule } from 'svelte/compiler'
import { defineConfig, type Plugin } from 'vitest/config'

// Compiles Svelte 5 rune modules (`*.svelte.ts`) the way an app's build does:
// strip the types, then let the Svelte compiler turn `$state`/`$effect` into
// client code. Only the adapter tests have such modules.
const svelteRunes: Plugin = {
  name: 'svelte-runes',
  enforce: 'pre',
  async transform(code, id) {
    if (!id.endsWith('.svelte.ts')) return
    const js = await transform(code, { loader: 'ts', sourcefile: id, target: 'es2022' })
    return compileModule(js.code, { filename: id, generate: 'client' }).js
  },
}

export default defineConfig({
  cacheDir: '../node_modules/.vite',
  plugins: [svelteRunes],
  // Browser builds of the frameworks (what a window runs): without `browser`,
  // `svelte/store` resolves to Svelte's server build, whose toStore tracks nothing.
  resolve: { conditions: ['module', 'browser', 'development|production'] },
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    environment: 'happy-dom',
    restoreMocks: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 20_000,
  },
})
