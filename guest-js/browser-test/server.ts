// Serves the test page on 127.0.0.1 (a secure context, so Web Locks exist):
// `/` is the page, `/page.js` its bundle, built once with esbuild (with
// @tauri-apps/api, which `topic()` imports but never calls over this backend).
import { build } from 'esbuild'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const html = '<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="/page.js"></script>'

export async function serve(page = new URL('./page.ts', import.meta.url).pathname): Promise<{ url: string; close: () => Promise<void> }> {
  const out = await build({
    entryPoints: [page],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
  })
  const script = out.outputFiles[0]!.text
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else if (path === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) }
}
