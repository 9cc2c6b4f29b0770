/** Replaces the password of a URL with ***** so it can be printed. */
export function maskUrl (url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '*****'
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '')
  } catch {
    // Not a URL we can parse: hide anything that looks like user:pass@
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:*****@')
  }
}

/**
 * Scrubs known secrets and credentials in URLs from text before it reaches stderr or a file.
 * Secrets shorter than 3 characters are not scrubbed: they would mangle ordinary words.
 */
export class SecretMasker {
  private readonly secrets: string[] = []

  add (...values: Array<string | undefined>): void {
    for (const v of values) {
      if (v !== undefined && v.length >= 3 && !this.secrets.includes(v)) this.secrets.push(v)
    }
    // Longest first so a secret that contains another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length)
  }

  mask (text: string): string {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]*@/gi, '$1:*****@')
    for (const s of this.secrets) out = out.split(s).join('*****')
    return out
  }
}
