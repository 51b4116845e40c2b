// What sluice.yaml's `storage` names: `sqlite:<path>` (the embedded default) or a PostgreSQL URL, and how logs name it.

/** `sqlite:./data/sluice.db` -> `./data/sluice.db`. */
export function sqlitePath(storage: string): string {
  return storage.slice('sqlite:'.length);
}

export function isPostgresUrl(storage: string): boolean {
  return storage.startsWith('postgres://') || storage.startsWith('postgresql://');
}

/** `postgres://sluice@db.internal:5432/sluice`, or a generic name when the URL does not parse: never the password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
    const host = parsed.hostname === '' ? 'localhost' : parsed.hostname;
    return `postgres://${user}${host}:${parsed.port === '' ? '5432' : parsed.port}${parsed.pathname}`;
  } catch {
    return 'the configured PostgreSQL URL';
  }
}

/** The storage as logs may show it: the SQLite path, or PostgreSQL's host and database without the password. */
export function describeStorage(storage: string): string {
  return storage.startsWith('sqlite:') ? sqlitePath(storage) : describePostgresUrl(storage);
}
