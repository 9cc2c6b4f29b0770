/**
 * Node's codes for a server TLS certificate the client refuses, grouped by what fixes each:
 * es-read and es-write word their errors by them, and explain-errors picks its rule by them.
 * (The CRL codes are left out: espipe checks no CRL.)
 */
export const CERT_UNTRUSTED_CODES = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'INVALID_CA'] as const
export const CERT_DATE_CODES = ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'] as const
export const CERT_NAME_CODES = ['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH'] as const
export const CERT_OTHER_CODES = ['CERT_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'CERT_CHAIN_TOO_LONG', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_REJECTED', 'CERT_REVOKED'] as const
