import net from 'node:net'
import tls from 'node:tls'

/** What answered at a host and port, when it was not what a connection expected. */
export interface PeerKind {
  /** mysql, tls, http, ssh, other. */
  protocol: 'mysql' | 'tls' | 'http' | 'ssh' | 'other'
  /** For a message: `a MySQL server (MariaDB 10.11.6)`, `a plain HTTP server (nginx/1.24.0)`. */
  description: string
  /** What is in the description's parentheses, alone: `MariaDB 10.11.6`, `certificate for es.example`. */
  detail?: string
}

function peer (protocol: PeerKind['protocol'], what: string, detail?: string): PeerKind {
  return { protocol, description: detail === undefined ? what : `${what} (${detail})`, detail }
}

const printable = (b: Buffer): string => b.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 60)

/** A server that speaks first (MySQL's handshake, SSH's banner), or what one answered that is not HTTP. */
export function classifyGreeting (b: Buffer, spokeFirst = true): PeerKind {
  // MySQL: 3-byte length, sequence 0, then protocol 10 and a NUL-ended version, or an error packet.
  if (b.length > 5 && b[3] === 0 && (b[4] === 0x0a || b[4] === 0xff)) {
    if (b[4] === 0xff) return peer('mysql', 'a MySQL server', `refusing: ${printable(b.subarray(7))}`)
    const end = b.indexOf(0, 5)
    const version = b.subarray(5, end < 0 ? undefined : end).toString('latin1').replace(/^5\.5\.5-/, '')
    return peer('mysql', 'a MySQL server', `${/mariadb/i.test(version) ? 'MariaDB ' : ''}${version}`)
  }
  const text = printable(b)
  if (text.startsWith('SSH-')) return peer('ssh', 'an SSH server', text.split(' ')[0])
  return peer('other', spokeFirst ? 'a server that speaks first' : 'a server that answers', `"${text}"`)
}

async function connected (socket: net.Socket, event: string, timeoutMs: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    socket.once(event, () => { clearTimeout(timer); resolve(true) })
    socket.once('error', () => { clearTimeout(timer); resolve(false) })
  })
}

async function firstBytes (socket: net.Socket, timeoutMs: number): Promise<Buffer | undefined> {
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs)
    socket.once('data', (d: Buffer) => { clearTimeout(timer); resolve(d) })
    socket.once('error', () => { clearTimeout(timer); resolve(undefined) })
    socket.once('end', () => { clearTimeout(timer); resolve(undefined) })
  })
}

/**
 * Finds out what listens at host:port, for a one-line error that names it ("port 3306 is a
 * MySQL server", "this port speaks TLS: use https://"). Only called once a connection has
 * already failed in a way that suggests the wrong service or scheme; it opens at most three
 * short connections and sends nothing but an HTTP HEAD. Undefined when nothing answers.
 */
export async function identifyPeer (host: string, port: number, timeoutMs = 1500): Promise<PeerKind | undefined> {
  // 1. Servers that speak first (MySQL, SSH) say who they are without being asked.
  const plain = net.connect({ host, port })
  try {
    if (!await connected(plain, 'connect', timeoutMs)) return undefined
    const greeting = await firstBytes(plain, 300)
    if (greeting !== undefined) return classifyGreeting(greeting)
  } finally {
    plain.destroy()
  }
  // 2. A TLS handshake that completes, whatever the certificate: the port wants https.
  const secure = tls.connect({ host, port, rejectUnauthorized: false, servername: net.isIP(host) === 0 ? host : undefined })
  try {
    if (await connected(secure, 'secureConnect', timeoutMs)) {
      const subject = secure.getPeerCertificate()?.subject?.CN
      return peer('tls', 'a TLS server', typeof subject === 'string' && subject !== '' ? `certificate for ${subject}` : undefined)
    }
  } finally {
    secure.destroy()
  }
  // 3. Plain HTTP: its status line and Server header.
  const http = net.connect({ host, port })
  try {
    if (!await connected(http, 'connect', timeoutMs)) return undefined
    http.write(`HEAD / HTTP/1.0\r\nHost: ${host}\r\n\r\n`)
    const answer = await firstBytes(http, timeoutMs)
    if (answer === undefined) return undefined
    const text = answer.toString('latin1')
    if (!text.startsWith('HTTP/')) return classifyGreeting(answer, false)
    const server = /^server:\s*(.+?)\s*$/im.exec(text)?.[1]
    return peer('http', 'a plain HTTP server', server)
  } finally {
    http.destroy()
  }
}
