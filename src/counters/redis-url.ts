// What a Redis URL may show of itself in a message: where Redis is, never its user or password (redis.ts).

/** Where Redis is (scheme, host, port, db) and the strings that must never reach a message (the password, raw and decoded). */
export function describeUrl(url: string): { where: string; secrets: string[] } {
  try {
    const parsed = new URL(url);
    const secrets = new Set<string>();
    if (parsed.password !== '') {
      secrets.add(parsed.password);
      try {
        secrets.add(decodeURIComponent(parsed.password));
      } catch {
        // Not valid percent-encoding: the raw form is all there is.
      }
    }
    const db = parsed.pathname.length > 1 ? parsed.pathname : '';
    return { where: `${parsed.protocol}//${parsed.host}${db}`, secrets: [...secrets].filter((s) => s.length > 0) };
  } catch {
    // Not a URL we can take apart: name no part of it, as any part may be a secret.
    return { where: '(unparsable Redis URL)', secrets: [url] };
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
