// How a PostgreSQL storage URL is named in errors and logs: host, port, database and user, never the password.

/** `postgres://sluice@db.internal:5432/sluice`, or a generic name when the URL does not parse. */
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

/** Removes the URL's password from a message (a driver error could quote the connection string). */
export function withoutPassword(message: string, url: string): string {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    return message.split(url).join('[redacted]');
  }
  if (password === '') return message;
  let out = message.split(password).join('[redacted]');
  const decoded = decodeURIComponent(password);
  if (decoded !== password) out = out.split(decoded).join('[redacted]');
  return out;
}

export function isPostgresUrl(storage: string): boolean {
  return storage.startsWith('postgres://') || storage.startsWith('postgresql://');
}
