// The Zustand adapter on the store behind a React hook (`create` from
// 'zustand'), observed through a real React component.
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, describe, expect, it } from 'vitest'
import { create } from 'zustand'
import { bindZustand } from '../../src/adapters/zustand'
import { world } from './world'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

const settle = () => act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
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

    const binding = bindZustand(useSettings, w.open(), { mode: 'replace' })
    await settle()
    expect(binding.hydrated).toBe(true)
    expect(host.textContent).toBe('light')

    w.rust({ theme: 'dark', lang: 'en' })
    await settle()
    expect(host.textContent).toBe('dark')
    expect(w.writes).toEqual([]) // applying remote state wrote nothing back

    act(() => useSettings.setState({ theme: 'sepia' }))
    await settle()
    expect(w.writes.map((write) => write.value)).toEqual([{ theme: 'sepia' }])
    expect(w.data()).toEqual({ theme: 'sepia', lang: 'en' })
    expect(host.textContent).toBe('sepia')
  })
})
