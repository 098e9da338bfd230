import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { svelte } from '@sveltejs/vite-plugin-svelte'

// One page per window kind; Tauri serves dist/ from the custom protocol.
export default defineConfig({
  plugins: [vue(), svelte()],
  clearScreen: false,
  // The binding is linked from the repository root; keep one copy of each
  // framework and of @tauri-apps/api, or reactivity and events split in two.
  resolve: { dedupe: ['@tauri-apps/api', 'vue', 'pinia', 'svelte', 'zustand', 'valtio'] },
  build: {
    target: 'safari16',
    rollupOptions: {
      input: Object.fromEntries(
        ['index', 'zustand', 'svelte', 'viewer', 'restricted', 'bench'].map((page) => [page, resolve(import.meta.dirname, `${page}.html`)]),
      ),
    },
  },
})
