import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the stand-in answers the next requests. */
export type StubMode = { status: 200, text: string } | { status: 429 } | { status: 500 } | { status: 'hang' }

export interface RecordedRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  /** The raw body as it arrived: tests look for secrets in it. */
  raw: string
  body: { model?: string, max_tokens?: number, system?: string, messages?: Array<{ role: string, content: string }> }
}

export interface AnthropicStub {
  /** Base URL to put in ANTHROPIC_BASE_URL. */
  url: string
  requests: RecordedRequest[]
  mode: StubMode
  close: () => Promise<void>
}

/**
 * A loopback stand-in for the Anthropic Messages API (POST /v1/messages): records every
 * request and answers as the API does — a message with text content, or the API's error
 * bodies for 429 (rate_limit_error) and 500 (api_error) — or never answers ('hang').
 */
export async function startAnthropicStub (mode: StubMode = { status: 200, text: 'stub explanation' }): Promise<AnthropicStub> {
  const requests: RecordedRequest[] = []
  const stub: AnthropicStub = { url: '', requests, mode, close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: RecordedRequest['body'] = {}
      try { body = JSON.parse(raw) as RecordedRequest['body'] } catch { /* recorded as raw */ }
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body })
      const m = stub.mode
      if (m.status === 'hang') return
      const send = (status: number, obj: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${requests.length}` })
        res.end(JSON.stringify(obj))
      }
      if (req.method !== 'POST' || req.url !== '/v1/messages') {
        send(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } })
      } else if (m.status === 429) {
        send(429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } })
      } else if (m.status === 500) {
        send(500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } })
      } else {
        send(200, {
          id: `msg_stub_${requests.length}`,
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'text', text: m.text }],
          stop_reason: 'end_turn',
          usage: { input_tokens: raw.length >> 2, output_tokens: m.text.length >> 2 }
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  stub.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return stub
}
