// identifyPeer against loopback peers that speak what real servers speak first.
import t from 'tap'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { identifyPeer } from '../../lib/core/peer.js'
import { closedPort } from '../helpers/explain-run.js'

async function peer (t: { teardown: (fn: () => void) => void }, onConnection: (c: net.Socket) => void): Promise<number> {
  const s = net.createServer((c) => { c.on('error', () => {}); onConnection(c) })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => s.close())
  return (s.address() as AddressInfo).port
}

t.test('servers that speak first say who they are', async (t) => {
  const ssh = await peer(t, (c) => c.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'))
  t.strictSame(await identifyPeer('127.0.0.1', ssh), { protocol: 'ssh', description: 'an SSH server (SSH-2.0-OpenSSH_9.2p1)', detail: 'SSH-2.0-OpenSSH_9.2p1' })
  const payload = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')])
  const full = await peer(t, (c) => c.end(Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload])))
  t.strictSame(await identifyPeer('127.0.0.1', full), { protocol: 'mysql', description: 'a MySQL server (refusing: Too many connections)', detail: 'refusing: Too many connections' })
  const smtp = await peer(t, (c) => c.write('220 mail.example ESMTP\r\n'))
  t.strictSame(await identifyPeer('127.0.0.1', smtp), { protocol: 'other', description: 'a server that speaks first ("220 mail.example ESMTP")', detail: '"220 mail.example ESMTP"' })
})

t.test('nothing there, or nothing said: unknown', async (t) => {
  t.equal(await identifyPeer('127.0.0.1', await closedPort()), undefined)
  const silent = await peer(t, () => {})
  t.equal(await identifyPeer('127.0.0.1', silent, 300), undefined)
})
