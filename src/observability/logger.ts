// Structured logs (pino): JSON for log shippers, or human-readable lines for a person at a terminal. Secrets are
// redacted by path as a second line of defence, never logged on purpose.
import { pino, type Logger } from 'pino';
import { ConfigError } from '../config/load.js';

export type LogFormat = 'json' | 'pretty';

/** Request headers that carry a credential: Sluice's keys (authorization, x-api-key) and providers' (api-key, ...). */
const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
  'cookie',
];

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
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

/** SLUICE_LOG_FORMAT, else sluice.yaml's log.format, else pretty on a terminal and JSON otherwise. */
export function logFormat(configured: LogFormat | undefined, env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean): LogFormat {
  const fromEnv = env.SLUICE_LOG_FORMAT;
  if (fromEnv === 'json' || fromEnv === 'pretty') return fromEnv;
  if (fromEnv !== undefined && fromEnv !== '') throw new ConfigError(`SLUICE_LOG_FORMAT: json or pretty, got "${fromEnv}"`);
  return configured ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/**
 * The process's logger on stdout. Pretty lines are formatted by pino-pretty in pino's worker thread, so a busy gateway
 * does not format them on the thread that serves calls; colours only when stdout is a terminal and NO_COLOR is unset.
 */
export function createProcessLogger(level: string, format: LogFormat): Logger {
  if (format === 'json') return createLogger(level);
  const colorize = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '';
  const transport = pino.transport({
    target: 'pino-pretty',
    // The start-up lines' fields repeat what their message says; the rest stay, on the message's line.
    options: {
      destination: 1,
      colorize,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,storage,counters,failMode,providers',
    },
  });
  return pino(loggerOptions(level), transport);
}

function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'sluice' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}
