// flush, persistenceErrors and onPersistenceError against @tauri-apps/api's
// mockIPC, with the plugin's real command and event names.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import { afterEach, describe, expect, it } from 'vitest'
import { PERSISTENCE_ERROR_EVENT, flush, onPersistenceError, persistenceErrors, isStateSyncError } from '../src/index'
import type { PersistenceError } from '../src/index'

const problem: PersistenceError = {
  topic: 'settings',
  kind: 'corrupt',
  message: 'not valid JSON: EOF while parsing',
  file: '/data/state-sync/settings.json',
  movedTo: '/data/state-sync/settings.json.corrupt-1764030000000',
}

afterEach(() => clearMocks())

describe('persistence from the window', () => {
  it('flush calls plugin:state-sync|flush and resolves when the plugin answers', async () => {
    const calls: string[] = []
    mockIPC((cmd) => {
      calls.push(cmd)
      return null
    })
    await expect(flush()).resolves.toBeNull()
    expect(calls).toEqual(['plugin:state-sync|flush'])
  })

  it('a failed flush rejects with PERSISTENCE_FAILED and the topic', async () => {
    mockIPC(() => {
      throw { code: 'PERSISTENCE_FAILED', message: 'could not save topic `settings`: disk full', topic: 'settings' }
    })
    const error = await flush().catch((e: unknown) => e)
    expect(isStateSyncError(error, 'PERSISTENCE_FAILED')).toBe(true)
    expect(isStateSyncError(error, 'PERSISTENCE_FAILED') && error.details.topic).toBe('settings')
  })

  it('persistenceErrors lists what the plugin kept from load time', async () => {
    mockIPC((cmd) => (cmd === 'plugin:state-sync|persistence_errors' ? [problem] : undefined))
    await expect(persistenceErrors()).resolves.toEqual([problem])
  })

  it('onPersistenceError hears the plugin event until it is turned off', async () => {
    mockIPC(() => undefined, { shouldMockEvents: true })
    const heard: PersistenceError[] = []
    const off = await onPersistenceError((p) => heard.push(p))
    await emit(PERSISTENCE_ERROR_EVENT, problem)
    off()
    await emit(PERSISTENCE_ERROR_EVENT, { ...problem, topic: 'todos' })
    expect(heard).toEqual([problem])
  })

  it('onPersistenceError with topics hears their problems on the subscription channels, and unsubscribes when turned off', async () => {
    const channels = new Map<number, { topic: string; channel: { id: number } }>()
    const calls: string[] = []
    mockIPC((cmd, args) => {
      const a = args as { topic: string; channel: { id: number }; id: number }
      calls.push(cmd)
      if (cmd === 'plugin:state-sync|subscribe') {
        if (a.topic === 'secret') throw { code: 'TOPIC_FORBIDDEN', message: 'no', topic: 'secret', access: 'read' }
        channels.set(channels.size + 1, { topic: a.topic, channel: a.channel })
        return channels.size
      }
      return null
    })
    const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
      .__TAURI_INTERNALS__
    const send = (topic: string, message: unknown, index: number) => {
      for (const c of channels.values()) if (c.topic === topic) internals.runCallback(c.channel.id, { message, index })
    }
    const heard: PersistenceError[] = []
    const off = await onPersistenceError((p) => heard.push(p), ['settings'])
    send('settings', { type: 'invalidate', topic: 'settings', revision: '1', sourceId: '@rust' }, 0)
    send('settings', { type: 'persistenceError', ...problem }, 1)
    expect(heard).toEqual([problem])
    off()
    await new Promise((r) => setTimeout(r, 0))
    expect(calls).toEqual(['plugin:state-sync|subscribe', 'plugin:state-sync|unsubscribe'])
    await expect(onPersistenceError(() => {}, ['settings', 'secret'])).rejects.toMatchObject({ code: 'TOPIC_FORBIDDEN' })
    await new Promise((r) => setTimeout(r, 0))
    expect(calls.filter((c) => c.endsWith('|unsubscribe'))).toHaveLength(2) // the one that succeeded is released
  })
})
