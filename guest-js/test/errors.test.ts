import { clearMocks, mockWindows } from '@tauri-apps/api/mocks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StateSyncError, invalid, isStateSyncError, toStateSyncError } from '../src/errors'
import { denied, notGranted, otherWindows, release, unknownPlugin, unregistered } from './support/tauri-refusals'

describe('StateSyncError', () => {
  it("keeps the plugin's code, message and details", () => {
    const e = toStateSyncError({
      code: 'REVISION_CONFLICT',
      message: 'revision conflict on `settings`',
      topic: 'settings',
      expectedRevision: '1',
      currentRevision: '2',
    })
    expect(e).toBeInstanceOf(StateSyncError)
    expect(e.name).toBe('StateSyncError')
    expect(e.message).toBe('revision conflict on `settings`')
    expect(isStateSyncError(e, 'REVISION_CONFLICT') && e.details.currentRevision).toBe('2')
  })

  describe("Tauri's own refusals", () => {
    beforeEach(() => mockWindows('viewer'))
    afterEach(() => clearMocks())

    it.each([
      ['no capability grants it (debug build)', notGranted('state-sync', 'set', ['state-sync:allow-set', 'state-sync:default', 'state-sync:write'])],
      ['a capability grants it to other windows (debug build)', otherWindows('state-sync', 'set', 'viewer', 'main', 'default')],
      ['a release build', release('state-sync', 'set')],
    ])('a refused command names the permission, the window and the capability folder: %s', (_, cause) => {
      const e = toStateSyncError(cause)
      expect(e.code).toBe('FORBIDDEN')
      expect(e.message).toBe('state-sync.set not allowed in window "viewer": add state-sync:allow-set in src-tauri/capabilities/')
      expect(e.details).toEqual({ cause })
    })

    it('regression: a command a capability explicitly denies (state-sync:deny-set) is FORBIDDEN, not IPC', () => {
      const e = toStateSyncError(denied('state-sync', 'set', 'viewer-cap'))
      expect(e.code).toBe('FORBIDDEN')
      expect(e.message).toBe('state-sync.set not allowed in window "viewer": remove state-sync:deny-set in src-tauri/capabilities/')
    })

    it('names kebab-case permissions for snake_case commands', () => {
      expect(toStateSyncError(release('state-sync', 'persistence_errors')).message).toContain('add state-sync:allow-persistence-errors ')
      expect(toStateSyncError(denied('state-sync', 'persistence_errors', 'c')).message).toContain('remove state-sync:deny-persistence-errors ')
    })

    it("a refused listen names the core plugin's permission", () => {
      const e = toStateSyncError(otherWindows('event', 'listen', 'viewer', 'main', 'default'))
      expect(e.code).toBe('FORBIDDEN')
      expect(e.message).toBe('event.listen not allowed in window "viewer": add core:event:allow-listen in src-tauri/capabilities/')
    })

    it.each([
      ['the app never called .plugin(...)', unregistered('state-sync')],
      ['the crate is not in the build (debug build)', unknownPlugin('state-sync', 'snapshot')],
    ])('a missing plugin is PLUGIN_MISSING, naming .plugin(...) in the builder: %s', (_, cause) => {
      const e = toStateSyncError(cause)
      expect(e.code).toBe('PLUGIN_MISSING')
      expect(e.message).toBe('add .plugin(tauri_plugin_state_sync::init()) to tauri::Builder')
      expect(e.details).toEqual({ cause })
    })
  })

  it('maps any other plain string to IPC', () => {
    expect(toStateSyncError('the webview was closed').code).toBe('IPC')
  })

  it('maps an exception to IPC and keeps it as the cause', () => {
    const cause = new TypeError('fetch failed')
    const e = toStateSyncError(cause)
    expect(e.code).toBe('IPC')
    expect(e.message).toBe('fetch failed')
    expect(isStateSyncError(e, 'IPC') && e.details.cause).toBe(cause)
  })

  it('regression (fuzz): a rejection that String() throws on decodes into IPC instead of throwing', () => {
    const bare = Object.create(null) as object
    expect(toStateSyncError(bare)).toMatchObject({ code: 'IPC', message: 'object', details: { cause: bare } })
    expect(toStateSyncError({ code: 'UNKNOWN_TOPIC', message: bare })).toMatchObject({ code: 'UNKNOWN_TOPIC', message: 'object' })
    const hostile = { toString: () => { throw new Error('no') } }
    expect(toStateSyncError(hostile)).toMatchObject({ code: 'IPC', message: 'object' })
  })

  it('returns a StateSyncError unchanged', () => {
    const e = new StateSyncError('TIMEOUT', 'timeout')
    expect(toStateSyncError(e)).toBe(e)
  })

  it('isStateSyncError narrows by code and refuses other errors', () => {
    expect(isStateSyncError(new StateSyncError('IPC', 'x'))).toBe(true)
    expect(isStateSyncError(new StateSyncError('IPC', 'x'), 'TIMEOUT')).toBe(false)
    expect(isStateSyncError(new Error('x'))).toBe(false)
    expect(isStateSyncError({ code: 'IPC' })).toBe(false)
  })

  it('invalid() is a PROTOCOL error carrying the rejected value', () => {
    expect(invalid(42)).toMatchObject({ code: 'PROTOCOL', message: 'invalid revision', details: { value: 42 } })
    expect(invalid(null, 'event without topic')).toMatchObject({ code: 'PROTOCOL', message: 'event without topic', details: { value: null } })
  })
})
