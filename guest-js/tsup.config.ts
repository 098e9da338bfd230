import { defineConfig } from 'tsup'
// @ts-expect-error: a plain .mjs module shared with scripts/size.mjs
import { entries, external } from './entries.mjs'

const shared = { tsconfig: 'guest-js/tsconfig.build.json', target: 'es2022', outDir: 'dist-js' } as const

export default defineConfig([
  {
    // ESM + CJS + .d.ts for the package root and every subpath entry.
    ...shared,
    entry: entries as Record<string, string>,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    splitting: true,
    treeshake: true,
    external,
  },
  {
    // The global script for `withGlobalTauri`: `window.__TAURI_PLUGIN_STATE_SYNC__`,
    // also reachable as `window.__TAURI__.stateSync`. It talks to the IPC
    // through @tauri-apps/api, which is bundled in.
    ...shared,
    entry: { 'api-iife': 'guest-js/src/index.ts' },
    format: ['iife'],
    globalName: '__TAURI_PLUGIN_STATE_SYNC__',
    outExtension: () => ({ js: '.js' }),
    minify: true,
    noExternal: [/./],
    footer: {
      js: "if ('__TAURI__' in window) Object.defineProperty(window.__TAURI__, 'stateSync', { value: __TAURI_PLUGIN_STATE_SYNC__ })",
    },
  },
])
