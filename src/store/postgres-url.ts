// A PostgreSQL URL's password kept out of errors (config/storage.ts names the URL in logs).

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
