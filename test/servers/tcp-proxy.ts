import net from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A loopback TCP proxy in front of a server, for fault injection: cut every connection
 * (optionally once N bytes went upstream, i.e. mid-batch), stay down (refuse new
 * connections) and come back, or throttle the bytes sent upstream.
 */
export class TcpProxy {
  port = 0
  /** Bytes forwarded client → server, all connections together. */
  bytesUp = 0
  connections = 0
  private server: net.Server | undefined
  private readonly pairs = new Set<[Socket, Socket]>()
  private cutAt: number | undefined
  private onCut: (() => void) | undefined
  private down = false
  private bytesPerSecond: number | undefined
  private limit: { connections: number, reply: Buffer } | undefined
  /** Connections answered with the refusal instead of being passed on. */
  refused = 0

  constructor (private readonly targetHost: string, private readonly targetPort: number) {}

  async start (port = 0): Promise<number> {
    this.server = net.createServer((client) => this.accept(client))
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject)
      this.server?.listen(port, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
    return this.port
  }

  private accept (client: Socket): void {
    if (this.down) { client.destroy(); return }
    if (this.limit !== undefined && this.pairs.size >= this.limit.connections) {
      this.refused++
      client.on('error', () => {})
      client.end(this.limit.reply)
      return
    }
    this.connections++
    const upstream = net.connect(this.targetPort, this.targetHost)
    const pair: [Socket, Socket] = [client, upstream]
    this.pairs.add(pair)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      this.pairs.delete(pair)
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    upstream.pipe(client)
    client.on('data', (chunk: Buffer) => {
      this.bytesUp += chunk.length
      if (this.cutAt !== undefined && this.bytesUp >= this.cutAt) {
        this.cutAt = undefined
        this.cutAll()
        this.onCut?.()
        return
      }
      if (this.bytesPerSecond !== undefined) {
        client.pause()
        setTimeout(() => client.resume(), Math.ceil(chunk.length / this.bytesPerSecond * 1000))
      }
      upstream.write(chunk)
    })
  }

  /** Destroys every open connection now. */
  cutAll (): void {
    for (const [c, u] of this.pairs) { c.destroy(); u.destroy() }
    this.pairs.clear()
  }

  /** Cuts every connection once `bytes` more have gone upstream (in the middle of a batch). */
  cutAfter (bytes: number, then?: () => void): void {
    this.cutAt = this.bytesUp + bytes
    this.onCut = then
  }

  /** Refuses new connections and cuts the open ones; `setDown(false)` lets them in again. */
  setDown (down: boolean): void {
    this.down = down
    if (down) this.cutAll()
  }

  /**
   * Passes at most `connections` connections at once; any further one gets `reply` (what a
   * server at its connection limit sends instead of a greeting) and is closed.
   */
  limitConnections (connections: number, reply: Buffer): void {
    this.limit = { connections, reply }
  }

  throttle (bytesPerSecond: number | undefined): void {
    this.bytesPerSecond = bytesPerSecond
  }

  async close (): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }
}
