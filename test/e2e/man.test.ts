import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, runTool } from '../helpers/run.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>, man: string[] }

/** The man page as a reader sees it: roff escapes for dashes undone. */
function manText (tool: string): string {
  return readFileSync(join(ROOT, 'man', `${tool}.1`), 'utf8').replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '')
}

for (const tool of Object.keys(pkg.bin)) {
  t.test(`${tool}: every option in --help is in the man page, and the page is clean roff`, async (t) => {
    t.ok(pkg.man.includes(`man/${tool}.1`), 'listed in package.json "man"')
    const help = await runTool(tool, ['--help'])
    t.equal(help.code, 0)
    // The tool's own line, the one its man page's NAME gives, not the package's description.
    const name = /\.SH NAME\n(.+)\n/.exec(readFileSync(join(ROOT, 'man', `${tool}.1`), 'utf8'))?.[1].replace(/\\-/g, '-')
    t.equal(help.stdout.split('\n').find((l) => l.trim() !== '')?.trim(), name, '--help starts with the NAME line')
    // Example lines ($ ...) show other tools' options too: only the option lines count.
    const optionLines = help.stdout.split('\n').filter((l) => !l.trim().startsWith('$'))
    const options = new Set(optionLines.flatMap((l) => [...l.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1])))
    t.ok(options.size >= 8, `found the options in --help (${options.size})`)
    const page = manText(tool)
    for (const opt of options) t.ok(page.includes(opt), `${opt} is documented`)
    const groff = spawnSync('groff', ['-man', '-ww', '-z', join(ROOT, 'man', `${tool}.1`)], { encoding: 'utf8' })
    t.equal(groff.status, 0)
    t.equal(groff.stderr, '', 'groff -man -ww -z prints no warning')
  })
}
