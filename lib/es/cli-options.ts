import type { FlagSpecs, Options } from '../core/cli.js'
import { UsageError } from '../core/errors.js'
import type { EsConnectionOptions } from './client.js'
import { splitSearchUrl } from './client.js'

/** The connection flags every Elasticsearch binary takes, with their environment variables and the original tool's spellings. */
export const ES_CONNECTION_FLAGS: FlagSpecs = {
  url: { type: 'string', env: 'ES_URL', default: 'http://localhost:9200', aliases: ['es_url'] },
  username: { type: 'string', env: 'ES_USERNAME', aliases: ['es_user'] },
  password: { type: 'string', env: 'ES_PASSWORD', aliases: ['es_pass'], allowEmpty: true },
  apiKey: { type: 'string', env: 'ES_API_KEY', aliases: ['api_key'] },
  caCert: { type: 'string', env: 'ES_CA_CERT', aliases: ['ca_cert'] },
  insecure: { type: 'boolean' },
  cloudId: { type: 'string', env: 'ES_CLOUD_ID', aliases: ['cloud_id'] },
  cert: { type: 'string', env: 'ES_CERT' },
  key: { type: 'string', env: 'ES_KEY' },
  awsSigv4: { type: 'boolean', env: 'ES_AWS_SIGV4' },
  awsRegion: { type: 'string', env: 'AWS_REGION' },
  awsService: { type: 'string', env: 'ES_AWS_SERVICE' }
}

/** Their --help lines. */
export const ES_CONNECTION_HELP = `      --username NAME        basic auth user (env ES_USERNAME)
      --password PASS        basic auth password (env ES_PASSWORD; prefer the variable)
      --api-key KEY          API key, base64 id:key or id:key (env ES_API_KEY)
      --ca-cert FILE         PEM CA certificate to trust (env ES_CA_CERT)
      --insecure             do not check the server's TLS certificate (warned)
      --cloud-id ID          Elastic Cloud deployment id (env ES_CLOUD_ID)
      --cert FILE            PEM client certificate, for clusters that require one (env ES_CERT)
      --key FILE             its PEM private key (env ES_KEY)
      --aws-sigv4            sign requests with AWS SigV4 (Amazon OpenSearch Service, Serverless;
                             env ES_AWS_SIGV4=1); credentials from the AWS SDK's default chain
      --aws-region REGION    region of the domain (env AWS_REGION; else from the URL's host)
      --aws-service SERVICE  es (a domain, default) or aoss (Serverless) (env ES_AWS_SERVICE)`

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
