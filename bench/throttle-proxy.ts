// A throttled TCP proxy as its own process, for the memory bench: MySQL that accepts bytes slowly.
//   node --import tsx bench/throttle-proxy.ts HOST PORT BYTES_PER_SECOND_PER_CONNECTION
// Prints the port it listens on, then runs until SIGTERM.
import { TcpProxy } from '../test/servers/tcp-proxy.js'

const [host, port, rate] = process.argv.slice(2)
const proxy = new TcpProxy(host, Number(port))
proxy.throttle(Number(rate))
process.stdout.write(`${await proxy.start()}\n`)
process.on('SIGTERM', () => process.exit(0))
