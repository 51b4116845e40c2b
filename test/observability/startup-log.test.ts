// The first log lines name the storage, the counters and each provider with its URL, and never a password or key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { validateConfig } from '../../src/config/load.js';
import { createLogger, logFormat } from '../../src/observability/logger.js';
import { logStartup } from '../../src/observability/startup-log.js';
import { createProvider } from '../../src/providers/registry.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

test("names PostgreSQL, Redis and each provider's URL without a password, user or key", () => {
  const config = validateConfig(
    {
      storage: 'postgres://sluice:pg-secret-password@db.internal:6543/ledger',
      counters: 'redis://default:redis-secret-password@cache.internal:6380/2',
      providers: {
        openai: { type: 'openai', baseUrl: 'https://llm.internal/v1?api-key=query-secret', apiKey: 'sk-provider-secret' },
        gemini: { type: 'gemini', apiKey: 'gemini-secret' },
      },
    },
    'sluice.yaml',
  );
  const built = new Map(Object.entries(config.providers).map(([name, provider]) => [name, createProvider(name, provider)]));
  const { logger, lines } = capture();
  logStartup(logger, { storage: config.storage, counters: config.counters, providers: config.providers, built });
  const text = lines.map((line) => JSON.stringify(line)).join('\n');
  for (const secret of ['pg-secret-password', 'redis-secret-password', 'query-secret', 'sk-provider-secret', 'gemini-secret']) {
    assert.ok(!text.includes(secret), `no ${secret} in the log`);
  }
  assert.deepEqual(
    lines.map((line) => line.msg),
    [
      'storage: PostgreSQL at postgres://sluice@db.internal:6543/ledger',
      'counters: Redis at redis://cache.internal:6380/2 (fail open)',
      'providers: openai https://llm.internal/v1, gemini https://generativelanguage.googleapis.com',
    ],
  );
});

test('names a SQLite path, memory counters and no provider', () => {
  const { logger, lines } = capture();
  logStartup(logger, { storage: 'sqlite:./data/sluice.db', counters: 'memory', providers: {}, built: new Map() });
  assert.deepEqual(
    lines.map((line) => line.msg),
    ['storage: SQLite at ./data/sluice.db', 'counters: in memory (budgets and rate limits count in this process only)', 'providers: none'],
  );
});

test('log format: SLUICE_LOG_FORMAT, else log.format, else pretty on a terminal and JSON otherwise', () => {
  assert.equal(logFormat(undefined, {}, true), 'pretty');
  assert.equal(logFormat(undefined, {}, false), 'json');
  assert.equal(logFormat('json', {}, true), 'json');
  assert.equal(logFormat('pretty', {}, false), 'pretty');
  assert.equal(logFormat('pretty', { SLUICE_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat(undefined, { SLUICE_LOG_FORMAT: 'pretty' }, false), 'pretty');
  assert.throws(() => logFormat(undefined, { SLUICE_LOG_FORMAT: 'xml' }, false), /SLUICE_LOG_FORMAT: json or pretty, got "xml"/);
});
