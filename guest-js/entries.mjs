// The package's entry points, shared by the build (tsup.config.ts) and the
// size check (scripts/size.mjs). `index` is the package root; every file in
// src/adapters/ becomes a subpath entry `adapters/<name>` (issue 4). To publish
// one (pinia, svelte, valtio, vue and zustand are), add to package.json "exports":
//   "./pinia": {
//     "import": { "types": "./dist-js/adapters/pinia.d.ts", "default": "./dist-js/adapters/pinia.js" },
//     "require": { "types": "./dist-js/adapters/pinia.d.cts", "default": "./dist-js/adapters/pinia.cjs" }
//   }
// and the framework as an optional peerDependency (tsup leaves peers out of
// the bundle). Adapters import the core from '../index' so that the ESM build
// shares one chunk, and with it one Tauri event listener, between entries.
// Shared code of the adapters lives in src/adapters/shared/, which is not an entry.
// `browser` (issue 15) is the browser backend, src/browser/index.ts; the rest
// of src/browser/ is its own code, not entries.
import { readdirSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('./src/', import.meta.url))

/** @type {Record<string, string>} name -> source file */
export const entries = { index: src + 'index.ts', browser: src + 'browser/index.ts' }
if (existsSync(src + 'adapters'))
  for (const file of readdirSync(src + 'adapters'))
    if (file.endsWith('.ts')) entries['adapters/' + file.slice(0, -3)] = src + 'adapters/' + file

/** Dependencies that are never bundled into the ESM/CJS builds (the frameworks are the adapters' optional peers). */
export const external = [/^@tauri-apps\/api/, /^(vue|pinia|svelte|valtio|zustand)(\/|$)/]
