// A Svelte 5 rune module, compiled by the Svelte compiler in the test config
// (see vitest.config.ts), as it would be in an app.
import type { Data } from './world'

export function createSettings(initial: Data) {
  const settings: Data & { bump(): void } = $state({
    ...initial,
    bump() {
      settings.count = (settings.count as number) + 1
    },
  })
  const dark = $derived(settings.theme === 'dark')
  const seen: unknown[] = []
  const derived: boolean[] = []
  // What a component's $effect would see.
  const stop = $effect.root(() => {
    $effect(() => {
      if (seen.length === 0 || seen[seen.length - 1] !== settings.theme) seen.push(settings.theme)
    })
    $effect(() => {
      derived.push(dark)
    })
  })
  return { settings, seen, derived, stop }
}
