import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, scratchDir } from '../helpers/run.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>, version: string }

t.test('npm pack, then npm install -g of the tarball into a clean prefix, gives every binary and its man page', async (t) => {
  const dir = scratchDir(t)
  const packed = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop() ?? ''
  const tarball = join(dir, packed)
  t.match(packed, /^espipe-.*\.tgz$/)
  const prefix = join(dir, 'prefix')
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const bins = readdirSync(join(prefix, 'bin')).sort()
  t.strictSame(bins, Object.keys(pkg.bin).sort(), 'every binary is on the PATH')
  for (const tool of Object.keys(pkg.bin)) {
    const version = spawnSync(join(prefix, 'bin', tool), ['--version'], { encoding: 'utf8' })
    t.equal(version.status, 0, `${tool} --version runs from the install`)
    t.equal(version.stdout, `${pkg.version}\n`, `${tool} --version prints the package's version`)
    const man = spawnSync('man', ['-w', tool], { encoding: 'utf8', env: { ...process.env, MANPATH: join(prefix, 'share', 'man') } })
    t.equal(man.status, 0, `man ${tool} finds its page`)
    t.match(man.stdout, new RegExp(`${tool}\\.1`))
  }
})
