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
})
