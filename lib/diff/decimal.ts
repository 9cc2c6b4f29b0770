/**
 * The exact decimal value of a JSON number token, as one canonical text: two tokens have the
 * same value exactly when their canonical texts are equal. `1.0`, `1`, `10e-1` and `0.1e1` are
 * all `1e0`; `-0` and `0` are both `0` (the same decimal value); 9007199254740993 keeps every
 * digit (no double is involved). Exponents of any size are kept exactly (as a BigInt).
 */
const NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/** `[-]DIGITSeEXP` with DIGITS free of leading and trailing zeros, or `0`; undefined when `token` is not a JSON number. */
export function canonicalDecimal (token: string): string | undefined {
  const m = NUMBER.exec(token)
  if (m === null) return undefined
  const [, sign, int, frac = '', exp = '0'] = m
  let digits = int + frac
  let lead = 0
  while (lead < digits.length && digits.charCodeAt(lead) === 0x30) lead++
  if (lead === digits.length) return '0'
  let trail = digits.length
  while (digits.charCodeAt(trail - 1) === 0x30) trail--
  digits = digits.slice(lead, trail)
  // The value is digits × 10^(exp − the fraction's length + the zeros cut at the end).
  const shift = int.length - trail
  const small = exp.length < 16 ? Number(exp) + shift : undefined
  const exponent = small !== undefined && Number.isSafeInteger(small) ? String(small) : String(BigInt(exp) + BigInt(shift))
  return `${sign}${digits}e${exponent}`
}
