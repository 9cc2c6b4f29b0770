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
  cloudId: { type: 'string', value: 'ID', env: 'ES_CLOUD_ID', aliases: ['cloud_id'], help: 'Elastic Cloud deployment id' },
  cert: { type: 'string', value: 'FILE', env: 'ES_CERT', help: 'PEM client certificate, for clusters that require one' },
  key: { type: 'string', value: 'FILE', env: 'ES_KEY', help: 'its PEM private key' },
  awsSigv4: { type: 'boolean', env: 'ES_AWS_SIGV4', help: 'sign requests with AWS SigV4 (Amazon OpenSearch Service, Serverless; env {env}=1); credentials from the AWS SDK\'s default chain' },
  awsRegion: { type: 'string', value: 'REGION', env: 'AWS_REGION', help: "region of the domain (env {env}; else from the URL's host)" },
  awsService: { type: 'string', value: 'SERVICE', env: 'ES_AWS_SERVICE', help: 'es (a domain, default) or aoss (Serverless)' }
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
    cloudId: opts.string('cloudId'),
    cert: opts.string('cert'),
    key: opts.string('key'),
    aws: awsOptions(opts)
  }
}

/** --aws-sigv4's region and service; undefined without the flag. */
function awsOptions (opts: Options): EsConnectionOptions['aws'] {
  const service = opts.string('awsService', { choices: ['es', 'aoss'] }) as 'es' | 'aoss' | undefined
  if (!opts.bool('awsSigv4')) {
    // AWS_REGION is set for many other tools: only --aws-sigv4 (ES_AWS_SIGV4) says "sign".
    if (opts.label('awsService').startsWith('--') && service !== undefined) throw new UsageError('--aws-service needs --aws-sigv4')
    return undefined
  }
  return { region: opts.string('awsRegion') ?? process.env.AWS_DEFAULT_REGION, service }
}

/**
 * The index: --index, or the one a search URL names; both, when they differ, are refused (one
 * of them is a mistake, and taking either silently reads or writes the wrong index).
 */
export function indexOption (opts: Options, urlIndex: string | undefined): string | undefined {
  const index = opts.string('index')
  if (index !== undefined && urlIndex !== undefined && index !== urlIndex) {
    throw new UsageError(`${opts.label('url')} names index ${urlIndex} and ${opts.label('index')} says ${index}: give the index once`)
  }
  return index ?? urlIndex
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
