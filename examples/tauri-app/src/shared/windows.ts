import { WebviewWindow } from '@tauri-apps/api/webviewWindow'
import { reportError } from './model'

export type WindowKind = 'vue' | 'zustand' | 'svelte' | 'viewer' | 'restricted'

const pages: Record<WindowKind, { page: string; title: string }> = {
  vue: { page: 'index.html', title: 'Vue + Pinia' },
  zustand: { page: 'zustand.html', title: 'Zustand' },
  svelte: { page: 'svelte.html', title: 'Svelte' },
  viewer: { page: 'viewer.html', title: 'Read-only viewer' },
  restricted: { page: 'restricted.html', title: 'Settings only' },
}

export const windowKinds = Object.keys(pages) as WindowKind[]

let opened = 0

/** Opens one more window of `kind`; it hydrates on its own from the plugin. */
export function openWindow(kind: WindowKind): void {
  opened++
  const label = `${kind}-${Date.now().toString(36)}${opened}`
  const { page, title } = pages[kind]
  const window = new WebviewWindow(label, {
    url: page,
    title: `state-sync · ${title}`,
    width: 460,
    height: 760,
  })
  window.once('tauri://error', (e) => reportError(e.payload))
}

export function kindTitle(kind: WindowKind): string {
  return pages[kind].title
}
