import { describe, expect, it } from 'vitest'
import { StateSyncError, invalid, isStateSyncError, toStateSyncError } from '../src/errors'

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

  it("maps Tauri's plain-string ACL denial to FORBIDDEN", () => {
    const e = toStateSyncError('state-sync.set not allowed on window "main", webview "main", URL: local')
    expect(e.code).toBe('FORBIDDEN')
    expect(e.message).toContain('not allowed')
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
