/**
 * The one tab that writes a backend's localStorage, and how the other tabs
 * read and write through it.
 *
 * Each tab reads localStorage from its own copy, which learns of other tabs'
 * writes a moment later: a Web Lock alone cannot make a compare-and-set safe
 * when the lock holder's copy is stale. So one tab is the writer, elected
 * with the Web Lock `state-sync:<name>:writer`, held while its backend is
 * open. Only the writer touches the stored records, so its copy is current;
 * other tabs send it {@link Request}s over the BroadcastChannel of the same
 * name and get its {@link Answer} back. Every answer carries the value
 * stored now and goes to every tab, so each tab knows the newest record
 * even before its copy does.
 *
 * Every request goes to every tab before a writer runs it, the writer's own
 * included, and every tab keeps the requests it heard until it hears their
 * answers.
 *
 * Hand-over: when the writer's tab closes (or its backend does), the next
 * tab waiting for the lock becomes the writer. Before it answers anything it
 * posts a message through the browser to itself and waits for it, so that it
 * has heard every request and answer the old writer posted first; it starts
 * from the newest record it knows. A closing tab's last messages can be lost,
 * so the old writer may have stored a record whose answer never left; its
 * request did (a tab's messages leave in the order it sent them, and the
 * request went before the record was stored). So the new writer first runs
 * again every request it heard and never heard answered, in order, as the old
 * writer did: a compare-and-set it had applied is stored again, the same
 * record at the same revision, where the new writer's copy does not have it
 * yet (or found stored where it does), one it had refused is refused again,
 * one it never ran is run. No revision is reused for other data, and none is
 * skipped. Then it tells the tabs (`writer`), which send again every request
 * still unanswered, and which read their copy again. A request that reaches a
 * writer again (the same `request` id) is acknowledged if it was applied (the
 * writers remember the ids they heard applied, and a value stored already is
 * one applied), never applied twice.
 *
 * @module
 */
import { noop } from '../protocol'

/**
 * A request to the writer: a read when `next` is absent; otherwise a
 * compare-and-set of the topic's stored value (see `Store.commit`).
 *
 * @example
 * const r: Request = { request: 'k3x9:4', topic: 'counter', seen: '3', next: '{"revision":"4","version":1,"json":"4"}' }
 */
export interface Request {
  /** Unique per request and tab: the answer names it. */
  request: string
  topic: string
  seen?: string
  next?: string
  aside?: string
}

/**
 * The writer's answer to the request `answer`, sent to every tab: `raw` is
 * the value stored for the topic now (`null`: none); `ok` whether a
 * compare-and-set applied (or had been); `error` the storage's exception, by
 * name (`QuotaExceededError`).
 *
 * @example
 * const a: Answer = { answer: 'k3x9:4', topic: 'counter', raw: '{"revision":"4","version":1,"json":"4"}', ok: true }
 */
export interface Answer {
  answer?: string
  topic: string
  raw: string | null
  ok?: boolean
  error?: { name?: string; message: string }
}

type Message = Partial<Request & Answer & { writer: 1; ping: string }>

/** The writer of one backend's localStorage, seen from this tab. */
export interface Writer {
  /** Starts hearing the writer's answers (`heard`), and waiting to be the writer. */
  stand(): void
  /** Has the writer (this tab or another) run `request`; resolves with its answer. */
  ask(request: Omit<Request, 'request'>): Promise<Answer>
  /** Stops writing and answering; a pending request answers `InvalidStateError`. */
  close(): void
}

// How many applied requests a tab remembers, to acknowledge one sent twice.
const KEEP = 256

/**
 * The {@link Writer} of backend `name`. `serve` runs a request on this tab's
 * copy, once this tab is the writer; `heard` sees every answer, from any tab;
 * `handedOver` is called when another tab, or this one, became the writer.
 * Without Web Locks or BroadcastChannel every tab serves its own requests.
 *
 * @example
 * const w = writer('state-sync', navigator.locks, (r) => ({ answer: r.request, topic: r.topic, raw: null }), () => {}, () => {})
 */
export function writer(
  name: string,
  locks: LockManager | undefined,
  serve: (r: Request) => Answer,
  heard: (a: Answer) => void,
  handedOver: () => void,
): Writer {
  const id = `state-sync:${name}:writer`
  const tab = Math.random().toString(36).slice(2)
  let count = 0
  let bc: BroadcastChannel | undefined
  let elected = false
  let candidacy: AbortController | undefined
  let release = noop
  let fenced = noop
  const pending = new Map<string, { request: Request; resolve: (a: Answer) => void }>()
  const applied = new Set<string>()
  // Requests from any tab (the writer's own included) whose answer this tab has not heard.
  const unanswered = new Map<string, Request>()

  const remember = (a: Answer) => {
    const id = a.answer!
    heard(a)
    unanswered.delete(id)
    if (a.ok && applied.add(id).size > KEEP) applied.delete(applied.values().next().value!)
    pending.get(id)?.resolve(a)
    pending.delete(id)
  }
  // A request applied already (by this writer or the one before) is acknowledged again, not applied twice.
  const answer = (r: Request) => {
    const a = applied.has(r.request) ? { ...serve({ ...r, next: undefined }), ok: true } : serve(r)
    bc?.postMessage(a)
    remember(a)
  }
  const receive = ({ data: m }: MessageEvent<Message>) => {
    if (m.ping) m.ping === tab && fenced()
    else if (m.writer) handedOver(), pending.forEach((p) => bc?.postMessage(p.request))
    else if (m.request) elected ? answer(m as Request) : unanswered.set(m.request, m as Request)
    else if (m.topic) remember(m as Answer)
  }
  // Through the browser to this tab: once it arrives, so has every message posted before it.
  const fence = () =>
    new Promise<void>((resolve) => {
      fenced = resolve
      const out = new BroadcastChannel(id)
      out.postMessage({ ping: tab })
      out.close()
    })

  // Hears the writer, and waits for the writer lock for as long as the backend is open.
  const stand = () => {
    if (bc || !locks || typeof BroadcastChannel !== 'function') return
    ;(bc = new BroadcastChannel(id)).onmessage = receive
    const { signal } = (candidacy = new AbortController())
    locks
      .request(id, { signal }, async () => {
        await fence()
        if (signal.aborted) return
        elected = true
        handedOver()
        unanswered.forEach(answer)
        bc!.postMessage({ writer: 1 })
        pending.forEach((p) => answer(p.request))
        await new Promise<void>((resolve) => (release = resolve))
      })
      .catch(noop) // aborted by close()
  }

  return {
    stand,
    ask(r) {
      stand()
      const request = { ...r, request: tab + ':' + ++count }
      if (!bc) return Promise.resolve(serve(request))
      return new Promise((resolve) => {
        pending.set(request.request, { request, resolve })
        bc!.postMessage(request)
        if (elected) answer(request)
      })
    },
    close() {
      elected = false
      candidacy?.abort()
      release()
      fenced()
      bc?.close()
      bc = undefined
      release = noop
      pending.forEach((p) => p.resolve({ topic: p.request.topic, raw: null, error: { name: 'InvalidStateError', message: 'the backend was closed' } }))
      pending.clear()
      unanswered.clear()
    },
  }
}
