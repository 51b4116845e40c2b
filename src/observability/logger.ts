// Structured logs (pino): JSON for log shippers, or human-readable lines for a person at a terminal. Secrets are
// redacted by path as a second line of defence, never logged on purpose.
import { pino, type Logger } from 'pino';
import { ConfigError } from '../config/load.js';

export type LogFormat = 'json' | 'pretty';

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
    options: { destination: 1, colorize, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,storage,counters,failMode,providers' },
  });
  return pino(loggerOptions(level), transport);
}

function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'sluice' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization', 'headers["x-api-key"]', 'headers["api-key"]', 'key', '*.key'],
      censor: '[redacted]',
    },
  };
}
