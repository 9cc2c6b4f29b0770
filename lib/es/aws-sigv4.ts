import { parse as parseQuery } from 'node:querystring'
import type { SignatureV4 } from '@smithy/signature-v4'
import { EspipeError, UsageError } from '../core/errors.js'

/** AWS request signing for Amazon OpenSearch Service (`es`) and OpenSearch Serverless (`aoss`). */
export type AwsService = 'es' | 'aoss'

export interface AwsSigV4Options {
  /** The region the domain or collection is in (us-east-1); from the URL's host when not given. */
  region?: string
  /** `es` for a domain, `aoss` for a Serverless collection; from the URL's host when not given. */
  service?: AwsService
}

/** What one request is, at the point it is sent: the bytes the signature covers. */
export interface RequestToSign {
  method: string
  url: URL
  /** Already serialized (`a=b&c=d`). */
  querystring?: string
  headers: Record<string, string | string[] | undefined>
  body?: string | Buffer
}

/** Where the AWS endpoints name region and service: `search-x.eu-west-1.es.amazonaws.com`, `id.us-east-1.aoss.amazonaws.com`. */
const AWS_HOST = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(es|aoss)\.amazonaws\.com(?:\.cn)?$/

/** The region and service --aws-sigv4 signs for: the flags, else the endpoint's host name. */
export function awsTarget (opts: AwsSigV4Options, url: URL): { region: string, service: AwsService } {
  const fromHost = AWS_HOST.exec(url.hostname)
  const region = opts.region ?? fromHost?.[1]
  const service = opts.service ?? (fromHost?.[2] as AwsService | undefined) ?? 'es'
  if (region === undefined || region === '') {
    throw new UsageError('--aws-sigv4 needs the region the domain is in: --aws-region (env AWS_REGION), e.g. --aws-region eu-west-1')
  }
  if (service !== 'es' && service !== 'aoss') throw new UsageError(`invalid value for --aws-service: '${String(service)}' (es for an OpenSearch Service domain, aoss for OpenSearch Serverless)`)
  return { region, service }
}

/**
 * A query string as SigV4 canonicalizes it: every name and value percent-encoded per RFC 3986
 * (also `!'()*`, which encodeURIComponent leaves). Sending the query in this form makes the
 * bytes on the wire the canonical ones, so no verifier's reading of them can differ.
 */
export function strictQuery (querystring: string | undefined): { text: string, query: Record<string, string | string[]> } {
  const query: Record<string, string | string[]> = {}
  if (querystring === undefined || querystring === '') return { text: '', query }
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const parts: string[] = []
  for (const [k, v] of Object.entries(parseQuery(querystring))) {
    const values = Array.isArray(v) ? v : [v ?? '']
    query[k] = Array.isArray(v) ? values : values[0] as string
    for (const value of values) parts.push(`${enc(k)}=${enc(value)}`)
  }
  return { text: parts.join('&'), query }
}

type Sign = (req: RequestToSign) => Promise<Record<string, string>>

/**
 * The signer: credentials from the AWS SDK for JavaScript v3's default chain (environment,
 * shared config and credentials files with AWS_PROFILE, SSO, web identity, container and
 * instance metadata) and each request signed by the SDK's own SigV4 signer. The chain caches
 * what it found and fetches again before temporary credentials expire, so a run that outlives
 * its credentials signs with the new ones. The SDK's modules are loaded on first use only: a
 * run that does not sign pays nothing for them.
 */
export function awsSigner (region: string, service: AwsService): Sign {
  let signer: Promise<SignatureV4> | undefined
  const load = async (): Promise<SignatureV4> => {
    const [{ fromNodeProviderChain }, { SignatureV4 }, { Hash }] = await Promise.all([
      import('@aws-sdk/credential-providers'),
      import('@smithy/signature-v4'),
      import('@smithy/hash-node')
    ])
    return new SignatureV4({ credentials: fromNodeProviderChain(), region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: true })
  }
  return async (req) => {
    signer ??= load()
    const port = req.url.port === '' ? undefined : Number(req.url.port)
    const host = req.url.host
    const headers: Record<string, string> = { host }
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && k.toLowerCase() !== 'authorization') headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v
    }
    const { query } = strictQuery(req.querystring)
    try {
      // The signer takes an HttpRequest: a plain object of its fields is one.
      const signed = await (await signer).sign({
        method: req.method,
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        port,
        path: req.url.pathname,
        query,
        headers,
        body: req.body
      } as Parameters<SignatureV4['presign']>[0])
      return signed.headers
    } catch (err) {
      throw credentialsError(err)
    }
  }
}

/** The chain found no credentials, or a provider in it failed: final, saying where it looked. */
function credentialsError (err: unknown): EspipeError {
  const e = err as { name?: string, message?: string }
  const message = e.message ?? String(err)
  if (e.name === 'CredentialsProviderError' || /credentials/i.test(message)) {
    return new EspipeError('AWS_NO_CREDENTIALS', `--aws-sigv4: no AWS credentials: ${message.split('\n')[0] ?? message} (looked in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared config and credentials files for AWS_PROFILE, web identity, container and instance metadata)`, { cause: err })
  }
  return new EspipeError('AWS_SIGV4', `--aws-sigv4: could not sign the request: ${message}`, { cause: err })
}
