// Structured JSON logs (pino); secrets are redacted by path as a second line of defence, never logged on purpose.
import { pino, type Logger } from 'pino';

/** Request headers that carry a credential: Sluice's keys (authorization, x-api-key) and providers' (api-key, ...). */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-security-token', 'cookie'];

/** Credential fields of a provider's config, and the `key` a consumer's key is logged under. */
const CREDENTIAL_FIELDS = ['apiKey', 'key', 'secretAccessKey', 'sessionToken', 'serviceAccountJson', 'private_key', 'secret'];

/**
 * Where a credential can sit in a logged object: a field at the top or one level down, and a header at the top, under
 * `headers`, or under any object's `headers` (`req.headers`, pino-http's shape).
 */
const REDACTED_PATHS = [
  ...CREDENTIAL_FIELDS.flatMap((field) => [field, `*.${field}`]),
  ...CREDENTIAL_HEADERS.flatMap((header) => [`["${header}"]`, `*["${header}"]`, `headers["${header}"]`, `*.headers["${header}"]`]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'sluice' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
