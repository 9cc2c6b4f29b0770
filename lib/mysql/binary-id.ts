import { isUtf8 } from 'node:buffer'

/**
 * How a binary key value (BINARY, VARBINARY, BLOB) is an `_id`, and back. Ids are strings and
 * keys are bytes: bytes that are UTF-8 text are that text (the ids mysql-write stores in a
 * VARBINARY id column read back as they were written); any other bytes, and text that itself
 * starts with the prefix, are the prefix and their base64. The two forms cannot meet, so two
 * keys never share an id (0xFF is `base64:/w==`, the text '/w==' is `/w==`, the text
 * 'base64:x' is `base64:YmFzZTY0Ong=`).
 */
export const BINARY_ID_PREFIX = 'base64:'

const PREFIX_BYTES = Buffer.from(BINARY_ID_PREFIX, 'latin1')

function plainText (bytes: Uint8Array): boolean {
  return isUtf8(bytes) && !(bytes.length >= PREFIX_BYTES.length && PREFIX_BYTES.equals(bytes.subarray(0, PREFIX_BYTES.length)))
}

export function binaryIdText (bytes: Buffer): string {
  return plainText(bytes) ? bytes.toString('utf8') : BINARY_ID_PREFIX + bytes.toString('base64')
}

/** Canonical base64 (RFC 4648, padded): the only text a value's bytes are written as. */
export function fromBase64 (text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}

/** An id's bytes for a binary id column, or why no key reads back as this id. */
export function binaryIdBytes (id: string): Buffer | { problem: string } {
  if (!id.startsWith(BINARY_ID_PREFIX)) return Buffer.from(id, 'utf8')
  const bytes = fromBase64(id.slice(BINARY_ID_PREFIX.length))
  if (bytes === undefined || plainText(bytes)) {
    return { problem: `id '${id}' starts with ${BINARY_ID_PREFIX} but is not the form mysql-read gives bytes that are not UTF-8 text (${BINARY_ID_PREFIX} and their canonical base64), so the binary id column can't keep it apart from others` }
  }
  return bytes
}
