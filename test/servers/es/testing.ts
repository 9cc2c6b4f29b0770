// Helpers for the conformance tests: a server per test, and raw HTTP for what the client hides.

import { request } from 'node:http'
import { Client, errors } from '@elastic/elasticsearch'
import { startEsServer, type EsServerOptions, type EsTestServer } from './server.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function serverFor(t: Teardown, opts?: EsServerOptions): Promise<{ server: EsTestServer; client: Client }> {
  const server = await startEsServer(opts)
  const client = new Client({ node: server.url })
  t.teardown(async () => {
    await client.close()
    await server.close()
  })
  return { server, client }
}

export interface RawResponse {
  status: number
  headers: Headers
  text: string
  json: unknown
}

/** Plain node:http (fetch refuses a GET with a body, which elasticdump sends); objects go as JSON. */
export function raw(
  server: EsTestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const h: Record<string, string> =
    payload === undefined
      ? { ...headers }
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers }
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { method, headers: h }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json: unknown
        try {
          json = text === '' ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        const hs = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') hs.set(k, v)
        resolve({ status: res.statusCode ?? 0, headers: hs, text, json })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** The parts of an ES error body the tests check. */
export function errorOf(json: unknown): { type: string; reason: string; rootType: string; rootReason: string; status: number } {
  const body = json as { error: { type: string; reason: string; root_cause: Array<{ type: string; reason: string }> }; status: number }
  const root = body.error.root_cause[0] as { type: string; reason: string }
  return { type: body.error.type, reason: body.error.reason, rootType: root.type, rootReason: root.reason, status: body.status }
}

export function docs(n: number, prefix = 'd'): Array<{ _id: string; _source: Record<string, unknown> }> {
  return Array.from({ length: n }, (_, i) => ({
    _id: `${prefix}${i}`,
    _source: { n: i, group: `g${i % 3}`, '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 3600000).toISOString() },
  }))
}

/** The ResponseError a client call fails with (the test fails if it succeeds). */
export async function failure(p: Promise<unknown>): Promise<errors.ResponseError> {
  const e = await p.then(
    () => new Error('expected the request to fail'),
    (err: unknown) => err,
  )
  if (!(e instanceof errors.ResponseError)) throw e
  return e
}
