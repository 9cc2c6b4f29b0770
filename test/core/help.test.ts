// --help's option lines come from the flag specs (issue 22): each option's spelling, value,
// default and environment variable are said once, where the flag is defined.
import t from 'tap'
import type { CliSpec, FlagSpecs } from '../../lib/core/cli.js'
import { helpText } from '../../lib/core/cli.js'
import { renderHelp } from '../../lib/core/help.js'
import { csvReadCli } from '../../lib/csv/read-cli.js'
import { csvWriteCli } from '../../lib/csv/write-cli.js'
import { esReadCli } from '../../lib/es/read-cli.js'
import { esWriteCli } from '../../lib/es/write-cli.js'
import { explainErrorsCli } from '../../lib/explain/explain-cli.js'
import { jsonlWriteCli } from '../../lib/jsonl/write-cli.js'
import { mysqlReadCli } from '../../lib/mysql/read-cli.js'
import { mysqlWriteCli } from '../../lib/mysql/write-cli.js'

const flags: FlagSpecs = {
  output: { type: 'string', shortFlag: 'o', value: 'FILE', help: 'write to FILE' },
  size: { type: 'string', value: 'N', default: '1000', help: 'hits per request' },
  url: { type: 'string', value: 'URL', env: 'ES_URL', default: 'http://localhost:9200', help: 'node URL (env {env}; default {default}); a search URL names the index' },
  user: { type: 'string', value: 'NAME', env: 'ES_USERNAME', help: 'basic auth user' },
  header: { type: 'boolean', default: true, help: 'the first line is data' },
  mode: { type: 'string', value: 'MODE', default: 'ignore', help: 'what a duplicate does (default: {default}):\nignore: skipped;\nupsert: the last wins' },
  threads: { type: 'string', ignored: 'changes nothing' }
}

t.test('an option line: spelling and value, then its help with the default and environment variable', async (t) => {
  const text = renderHelp([{ title: 'Options', options: ['output', 'size', 'url', 'user', 'header', 'mode', 'help', 'version'] }], flags)
  t.equal(text, [
    'Options',
    '  -o, --output FILE      write to FILE',
    '  --size N               hits per request (default: 1000)',
    '  --url URL              node URL (env ES_URL; default http://localhost:9200); a search URL',
    '                         names the index',
    '  --user NAME            basic auth user (env ES_USERNAME)',
    '  --no-header            the first line is data',
    '  --mode MODE            what a duplicate does (default: ignore):',
    '                         ignore: skipped;',
    '                         upsert: the last wins',
    '  --help                 print this help and exit',
    '  --version              print the version and exit'
  ].join('\n'))
})

t.test('prose wraps at the width; example lines stay whole; options can share a line', async (t) => {
  const long = 'word '.repeat(40).trim()
  const example = `$ tool ${'--flag '.repeat(20).trim()}`
  const text = renderHelp([
    { text: long },
    { title: 'Examples', text: example },
    { title: 'Options', options: [{ flags: ['output', 'size', 'url', 'user', 'header', 'mode'], help: 'all of them' }, 'help', 'version'] }
  ], flags)
  const out = text.split('\n')
  t.strictSame(out.slice(0, 3), ['word '.repeat(18).trim(), 'word '.repeat(18).trim(), 'word '.repeat(4).trim()])
  t.ok(out.includes('  ' + example), 'the example is one line')
  const at = out.findIndex((l) => l.startsWith('  -o, --output FILE, '))
  t.strictSame(out.slice(at, at + 2), [
    '  -o, --output FILE, --size N, --url URL, --user NAME, --no-header, --mode MODE',
    '                         all of them'
  ], 'a long first column: the help on the next line')
})

t.test('every option a binary takes is listed once: missing, twice or unknown is an error', async (t) => {
  const all = ['output', 'size', 'url', 'user', 'header', 'mode', 'help', 'version']
  t.throws(() => renderHelp([{ options: all.filter((n) => n !== 'size') }], flags), /--size is missing/)
  t.throws(() => renderHelp([{ options: [...all, 'size'] }], flags), /--size is listed 2 times/)
  t.throws(() => renderHelp([{ options: [...all, 'sice'] }], flags), /lists sice, which is not an option/)
  t.throws(() => renderHelp([{ options: [...all, 'threads'] }], flags), /--threads changes nothing here and is not listed/)
  t.throws(() => renderHelp([{ options: [...all, 'bare'] }], { ...flags, bare: { type: 'boolean' } }), /--bare has no help text/)
})

const specs: CliSpec[] = [csvReadCli, csvWriteCli, esReadCli, esWriteCli, explainErrorsCli, jsonlWriteCli, mysqlReadCli, mysqlWriteCli]

t.test("each binary's help lists every option it takes, in lines that fit 93 columns", async (t) => {
  t.equal(new Set(specs.map((s) => s.tool)).size, 8)
  for (const spec of specs) {
    const text = helpText(spec)
    // meow indents the whole text by two.
    const wide = text.split('\n').filter((l) => l.length > 91 && !l.trim().startsWith('$ '))
    t.strictSame(wide, [], `${spec.tool}: no line wider than 93 columns`)
    t.match(text, /^Usage\n {2}\$ /, `${spec.tool}: starts with its usage`)
  }
})

t.test('the retry options are the same in every binary that retries', async (t) => {
  const retrying = [esReadCli, esWriteCli, mysqlReadCli, mysqlWriteCli]
  for (const spec of retrying) {
    t.strictSame(['retries', 'retryMaxWait', 'retryFor'].map((n) => [spec.flags[n]?.aliases, spec.flags[n]?.value]), [[undefined, 'N'], [['retry_max_wait'], 'T'], [['retry_for'], 'T']], spec.tool)
    t.equal(spec.flags.retries.default, '8', `${spec.tool} --retries`)
    t.equal(spec.flags.retryMaxWait.default, '30s', `${spec.tool} --retry-max-wait`)
  }
  t.equal(mysqlWriteCli.flags.retryFor.default, '60s', 'mysql-write keeps its 60 s')
  t.equal(esReadCli.flags.retryFor.default, undefined, 'elsewhere no time bound unless asked')
})
