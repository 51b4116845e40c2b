// Budget counters that cannot be seeded from the ledger: the gateway starts anyway (documented), and an operator sees it
// in the log (error, with the cause, no credential), in /metrics and in /readyz's report, until a seeding succeeds. The
// ledger is a real PostgreSQL database its role may not read (a grant taken away), the counters a real Redis.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import pg from 'pg';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { postgresUrl } from '../support/postgres.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { capturedLogger, KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const suffix = randomBytes(5).toString('hex');
const ROLE = `sluice_seeding_${suffix}`;
const DATABASE = `sluice_test_seeding_${suffix}`;
/** In the storage URL (the server trusts loopback, so it is never checked): it must reach no log line, metric or report. */
const PASSWORD = `ledger-pw-${suffix}`;
const keyPrefix = testKeyPrefix();
let upstream: MockProvider;

/** Runs `sql` as the server's superuser, in `database`. */
async function asSuperuser(database: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(database) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function storageUrl(): string {
  const url = new URL(postgresUrl(DATABASE));
  url.username = ROLE;
  url.password = PASSWORD;
  return url.toString();
}

function start(logger: ReturnType<typeof capturedLogger>['logger'], counters: unknown): Promise<TestSluice> {
  return startTestSluice(
    {
      storage: storageUrl(),
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      counters,
      budgets: [{ name: 'daily-calls', consumers: 'everyone', mode: 'enforce', measure: 'requests', limit: 1_000, window: 'day' }],
    },
    { logger },
  );
}

async function metricsOf(sluice: TestSluice): Promise<string> {
  return (await fetch(`${sluice.adminURL}/metrics`)).text();
}

async function readiness(sluice: TestSluice): Promise<{ status: number; body: { status: string; counters: Record<string, unknown> } }> {
  const response = await fetch(`${sluice.baseURL}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; counters: Record<string, unknown> } };
}

/** A counter's value in /metrics, or null when it is not there. */
function metric(text: string, series: string): number | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

before(async () => {
  upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  await asSuperuser('postgres', `CREATE ROLE ${ROLE} LOGIN`);
  await asSuperuser('postgres', `CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
  // A first start creates the ledger's tables (its role owns them); then the role may no longer read the daily rollups,
  // which every seeding reads: a grant taken away by mistake, as an operator might.
  const first = await start(capturedLogger().logger, 'memory');
  await first.stop();
  await asSuperuser(DATABASE, `REVOKE SELECT ON usage_daily FROM ${ROLE}`);
});

after(async () => {
  await upstream.close();
  await deleteTestKeys(keyPrefix);
  await asSuperuser('postgres', `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await asSuperuser('postgres', `DROP ROLE IF EXISTS ${ROLE}`);
});

test('memory counters: a start whose seeding fails says so in the log, /metrics and /readyz', async () => {
  const log = capturedLogger();
  const sluice = await start(log.logger, 'memory');
  try {
    const failure = log
      .lines()
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: string; when?: string })
      .find((line) => line.msg.startsWith('budget counters cannot be seeded from the ledger'));
    assert.ok(failure !== undefined, 'the failure is logged');
    assert.ok(failure.level >= 50, `logged at error, was ${failure.level}`);
    assert.match(failure.err ?? '', /permission denied for table usage_daily/);

    const metrics = await metricsOf(sluice);
    assert.equal(metric(metrics, 'sluice_counter_seeding_failures_total{when="start"}'), 1, 'sluice_counter_seeding_failures_total');
    assert.equal(metric(metrics, 'sluice_counters_seeded{store="memory"}'), 0, 'sluice_counters_seeded');
    assert.equal(failure.when, 'start');

    // Ready still (the start goes on by design, calls are served), the report saying the counters are not seeded.
    const ready = await readiness(sluice);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.counters.seeded, false);

    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    for (const text of [...log.lines(), metrics, JSON.stringify(ready.body)]) assert.ok(!text.includes(PASSWORD), text);

    // The grant back: the seeding is tried again (every 10 s) and succeeds; nothing else would seed memory counters.
    await asSuperuser(DATABASE, `GRANT SELECT ON usage_daily TO ${ROLE}`);
    await until(
      'the counters are seeded after all',
      async () => metric(await metricsOf(sluice), 'sluice_counters_seeded{store="memory"}') === 1,
      25_000,
      500,
    );
    assert.equal((await readiness(sluice)).body.counters.seeded, true);
    assert.ok(log.lines().some((line) => line.includes('budget counters seeded from the ledger, after a seeding failed')));
  } finally {
    await sluice.stop();
  }
});

test('Redis counters: the start and every reseeding that fail are counted; once the ledger is readable, seeded again', async () => {
  await asSuperuser(DATABASE, `REVOKE SELECT ON usage_daily FROM ${ROLE}`);
  const log = capturedLogger();
  const sluice = await start(log.logger, { url: TEST_REDIS_URL, keyPrefix, failMode: 'open', timeoutMs: 1_000, leaseShare: 0 });
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  const call = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  try {
    let metrics = await metricsOf(sluice);
    assert.equal(metric(metrics, 'sluice_counter_seeding_failures_total{when="start"}'), 1, 'sluice_counter_seeding_failures_total');
    assert.equal(metric(metrics, 'sluice_counters_seeded{store="redis"}'), 0, 'sluice_counters_seeded');
    assert.equal((await readiness(sluice)).body.counters.seeded, false);

    // Never seeded, the counters have no marker: a call finds them lost and has them seeded, which fails again. It is
    // served unmetered (fail-open) and the failure counted.
    await call();
    metrics = await metricsOf(sluice);
    assert.ok((metric(metrics, 'sluice_counter_seeding_failures_total{when="reseed"}') ?? 0) >= 1, metrics);
    const reseedFailure = log
      .lines()
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: string; when?: string })
      .find((line) => line.when === 'reseed');
    assert.ok(reseedFailure !== undefined && reseedFailure.level >= 50, 'the reseeding failure is logged at error');
    assert.match(reseedFailure.err ?? '', /permission denied for table usage_daily/);

    // The grant back: the next seeding (a call's, or the marker check within 5 s) succeeds.
    await asSuperuser(DATABASE, `GRANT SELECT ON usage_daily TO ${ROLE}`);
    await until(
      'the counters are seeded again',
      async () => {
        await call();
        return metric(await metricsOf(sluice), 'sluice_counters_seeded{store="redis"}') === 1;
      },
      15_000,
      500,
    );
    assert.equal((await readiness(sluice)).body.counters.seeded, true);
    for (const text of [...log.lines(), await metricsOf(sluice)]) assert.ok(!text.includes(PASSWORD), text);
  } finally {
    await sluice.stop();
  }
});
