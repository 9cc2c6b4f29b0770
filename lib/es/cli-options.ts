import type { FlagSpecs, Options } from '../core/cli.js'
import { UsageError } from '../core/errors.js'
import type { HelpSection } from '../core/help.js'
import type { EsConnectionOptions } from './client.js'
import { DEFAULT_ES_URL, splitSearchUrl } from './client.js'

/** The connection flags every Elasticsearch binary takes, with their environment variables and the original tool's spellings. */
export const ES_CONNECTION_FLAGS: FlagSpecs = {
  url: { type: 'string', value: 'URL', env: 'ES_URL', default: DEFAULT_ES_URL, aliases: ['es_url'], help: 'node URL (env {env}; default {default}); a search URL such as http://host:9200/logs/_search also names the index' },
  username: { type: 'string', value: 'NAME', env: 'ES_USERNAME', aliases: ['es_user'], help: 'basic auth user' },
  password: { type: 'string', value: 'PASS', env: 'ES_PASSWORD', aliases: ['es_pass'], allowEmpty: true, help: 'basic auth password (env {env}; prefer the variable)' },
  apiKey: { type: 'string', value: 'KEY', env: 'ES_API_KEY', aliases: ['api_key'], help: 'API key, base64 id:key or id:key' },
  caCert: { type: 'string', value: 'FILE', env: 'ES_CA_CERT', aliases: ['ca_cert'], help: 'PEM CA certificate to trust' },
  insecure: { type: 'boolean', help: "do not check the server's TLS certificate (warned)" },
  cloudId: { type: 'string', value: 'ID', env: 'ES_CLOUD_ID', aliases: ['cloud_id'], help: 'Elastic Cloud deployment id' }
}

/** Their --help section. */
export const ES_CONNECTION_SECTION: HelpSection = { title: 'Connection', options: Object.keys(ES_CONNECTION_FLAGS) }

/** The connection the flags describe; `node` is the URL once any index in its path is taken off. */
export function esConnectionOptions (opts: Options, node: string): EsConnectionOptions {
  return {
    url: node,
    username: opts.string('username'),
    password: opts.string('password'),
    apiKey: opts.string('apiKey'),
    caCert: opts.string('caCert'),
    insecure: opts.bool('insecure'),
    cloudId: opts.string('cloudId')
  }
}

/**
 * A writer's --url: the node, and an index named in a search URL's path (the original tool's
 * `--es_url http://host:9200/idx/_search`). A query string is refused: a writer writes every
 * record it reads, so a `?q=` would be silently ignored.
 */
export function writerUrl (url: string, option: string): { node: string, index?: string } {
  const query = /\?([^#]*)/.exec(url)?.[1]
  if (query !== undefined && query !== '') throw new UsageError(`${option} has a query string (?${query}): es-write writes every record it reads; filter them before it (jq, es-read --q)`)
  const { node, index } = splitSearchUrl(url, option)
  return { node, index }
}
