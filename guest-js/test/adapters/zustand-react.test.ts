// The Zustand adapter on the store behind a React hook (`create` from
// 'zustand'), observed through a real React component.
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { create } from 'zustand'
import { bindZustand } from '../../src/adapters/zustand'
import { world } from './world'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

// Real timers and a real network of timeouts: each step waits for the
// condition it needs, polled inside act() so that React renders what happened
// (vi.waitFor fails with the last assertion after its timeout). No fixed sleep.
const until = (check: () => void) => act(() => vi.waitFor(check, { timeout: 5000, interval: 1 }))
let unmount: (() => void) | undefined
afterEach(() => unmount?.())

describe('Zustand adapter with the React hook', () => {
  it('a component using the hook re-renders on remote changes, and its local changes are written', async () => {
    const w = world({ theme: 'light', lang: 'en' })
    const useSettings = create<{ theme: string; lang: string }>()(() => ({ theme: 'system', lang: 'en' }))
    const Theme = () => createElement('span', null, useSettings((s) => s.theme))
    const host = document.createElement('div')
    const root = createRoot(host)
    unmount = () => act(() => root.unmount())
    act(() => root.render(createElement(Theme)))
    expect(host.textContent).toBe('system')

    const handle = w.open()
    // The window holds what the backend holds, at its revision.
    const caughtUp = () => expect(handle.get()?.revision).toBe(w.backend.snapshot('settings').revision)
    const binding = bindZustand(useSettings, handle, { mode: 'replace' })
    await act(() => handle.ready)
    expect(binding.hydrated).toBe(true)
    expect(host.textContent).toBe('light')

    w.rust({ theme: 'dark', lang: 'en' })
    await until(caughtUp)
    expect(host.textContent).toBe('dark')
    await act(() => binding.flush()) // an echo write, if there were one, is sent and settled by now
    expect(w.writes).toEqual([]) // applying remote state wrote nothing back

    act(() => useSettings.setState({ theme: 'sepia' }))
    await until(() => expect(w.writes).toHaveLength(1)) // the store's own change notification wrote it
    await act(() => binding.flush()) // that write has settled
    await until(caughtUp)
    await act(() => binding.flush()) // and an echo of it, if there were one, too
    expect(w.writes.map((write) => write.value)).toEqual([{ theme: 'sepia' }])
    expect(w.data()).toEqual({ theme: 'sepia', lang: 'en' })
    expect(host.textContent).toBe('sepia')
  })
})
