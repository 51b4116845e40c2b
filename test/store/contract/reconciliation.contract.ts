// Contract: reconciliation. Observed traffic is recorded as ledger usage (rollups included) all or nothing, discovered
// consumers are keyed by their strongest hint, resolutions and rules move past usage with them (ledger rows and
// rollups), CIDR rules match IPv4 and IPv6, and discovered resources come from the rollups. Each test owns its own
// months of 2031 and names starting with "recon-", so the other parts of the contract never see its rows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../../src/ledger/transaction.js';
import type { DirectorStore, DiscoveredConsumer, Observation, UsageRow } from '../../../src/store/director-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../../../src/store/errors.js';
import { allAudit, auditWritten, lastAudit, refusedWithoutTrace, rejectsWith, versionsMoved, type ContractContext } from './context.js';

const at = (time: string) => Date.parse(time);

function observed(time: string, source: Observation['source'], overrides: Partial<Observation> = {}): Observation {
  return {
    observer: 'recon-proxy',
    at: at(time),
    source,
    provider: 'openai',
    model: 'gpt-4o',
    inputTokens: 100,
    outputTokens: 10,
    costMicroUsd: 1_000,
    ...overrides,
  };
}

let sequence = 0;
function gatewayCall(time: string, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `recon-gw-${sequence++}`,
    startedAt: at(time),
    operation: 'chat',
    api: 'openai',
    consumer: 'recon-known',
    team: null,
    requestedModel: 'm',
    provider: 'recon-gw',
    providerModel: 'model-a',
    stream: false,
    inputTokens: 1,
    outputTokens: 1,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 1,
    latencyMs: 1,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

/** Usage in [from, to) by the given dimensions, as [group, calls, cost] with the groups' values joined. */
async function usageBy(
  store: DirectorStore,
  from: string,
  to: string,
  groupBy: Array<'consumer' | 'team'>,
  bucket: 'hour' | 'day' | 'month' = 'month',
) {
  const rows: UsageRow[] = await store.usage({ from: at(from), to: at(to), bucket, groupBy });
  const sums = new Map<string, [number, number]>();
  for (const row of rows) {
    const key = groupBy.map((d) => row.group[d]).join('/');
    const [calls, cost] = sums.get(key) ?? [0, 0];
    sums.set(key, [calls + row.calls, cost + row.costNanoUsd / 1000]);
  }
  return Object.fromEntries([...sums.entries()].sort());
}

async function byValue(store: DirectorStore, value: string): Promise<DiscoveredConsumer> {
  for (let cursor: string | null = null; ;) {
    const page = await store.listDiscoveredConsumers({ limit: 1000, cursor });
    const found = page.items.find((item) => item.identity.value === value);
    if (found !== undefined) return found;
    if (page.nextCursor === null) assert.fail(`no discovered consumer ${value}`);
    cursor = page.nextCursor;
  }
}

export function reconciliationContract(context: ContractContext): void {
  describe('reconciliation', () => {
    test('intake keys discovered consumers by their strongest hint, merges hints, and records usage without a version or audit', async () => {
      const { store } = context;
      const batch = [
        observed('2031-01-05T10:10:00Z', { keyFingerprint: 'sha256:AAAA0000aaaa0001', ip: '10.60.0.1', userAgent: 'svc/1' }, { calls: 3 }),
        observed('2031-01-05T11:20:00Z', { keyFingerprint: 'sha256:aaaa0000aaaa0001', ip: '10.60.0.2', host: 'api.openai.com' }),
        observed('2031-01-05T10:30:00Z', { ip: '::ffff:10.61.0.1', userAgent: 'curl/8.5' }, { costMicroUsd: null, calls: 2 }),
        observed('2031-01-05T10:40:00Z', { ip: '10.61.0.1' }),
        observed('2031-01-05T10:45:00Z', { ip: '2001:DB8:61:0::1' }),
        observed('2031-01-05T10:46:00Z', { ip: '2001:db8:61::1' }),
        observed(
          '2031-01-05T10:50:00Z',
          { userAgent: 'recon-agent/2', host: 'api.anthropic.com' },
          { provider: 'anthropic', model: 'claude-x' },
        ),
        observed('2031-01-05T10:51:00Z', { userAgent: 'recon-agent/2', host: 'API.OPENAI.COM' }),
        observed('2031-01-05T10:52:00Z', { userAgent: 'recon-agent/2' }, { observer: 'recon-gateway' }),
      ];
      let result: Awaited<ReturnType<DirectorStore['recordObservations']>> | undefined;
      assert.equal(
        await auditWritten(store, async () => {
          assert.equal(
            await versionsMoved(store, async () => {
              result = await store.recordObservations(batch);
            }),
            0,
            'intake is not an admin change',
          );
        }),
        0,
        'intake writes no audit record',
      );
      assert.equal(result!.recorded, batch.length);
      const identities = result!.consumers.map((item) => [
        item.identity.kind,
        item.identity.value,
        item.identity.host,
        item.calls,
        item.status,
      ]);
      assert.deepEqual(
        identities.sort(),
        [
          ['ip', '10.61.0.1', null, 3, 'pending'],
          ['ip', '2001:db8:61::1', null, 2, 'pending'],
          ['keyFingerprint', 'sha256:aaaa0000aaaa0001', null, 4, 'pending'],
          ['userAgent', 'recon-agent/2', 'api.anthropic.com', 1, 'pending'],
          ['userAgent', 'recon-agent/2', 'api.openai.com', 1, 'pending'],
          ['userAgent', 'recon-agent/2', null, 1, 'pending'],
        ].sort(),
      );

      const key = await byValue(store, 'sha256:aaaa0000aaaa0001');
      assert.deepEqual(key.hints, {
        ips: ['10.60.0.1', '10.60.0.2'],
        keyFingerprints: ['sha256:aaaa0000aaaa0001'],
        userAgents: ['svc/1'],
        hosts: ['api.openai.com'],
        observers: ['recon-proxy'],
        users: [],
        organizations: [],
        projects: [],
        services: [],
      });
      assert.deepEqual([key.firstSeenAt, key.lastSeenAt], [at('2031-01-05T10:10:00Z'), at('2031-01-05T11:20:00Z')]);
      assert.deepEqual(await store.getDiscoveredConsumer(key.id), key);
      assert.equal(await store.getDiscoveredConsumer(999_999_999), null);

      // A later batch widens the times, adds up the calls and merges new hints into the same discovered consumer.
      const later = await store.recordObservations([
        observed('2031-01-05T09:00:00Z', { keyFingerprint: 'sha256:aaaa0000aaaa0001', ip: '10.60.0.3' }, { observer: 'recon-other' }),
      ]);
      assert.equal(later.consumers[0]!.id, key.id);
      assert.deepEqual(
        [later.consumers[0]!.calls, later.consumers[0]!.firstSeenAt, later.consumers[0]!.lastSeenAt],
        [5, at('2031-01-05T09:00:00Z'), at('2031-01-05T11:20:00Z')],
      );
      assert.deepEqual(later.consumers[0]!.hints.ips, ['10.60.0.1', '10.60.0.2', '10.60.0.3']);
      assert.deepEqual(later.consumers[0]!.hints.observers, ['recon-proxy', 'recon-other']);

      // The ledger holds one row per observation, standing for its calls, named by its discovered consumer; analytics see them.
      const rows =
        await context.query(`SELECT operation, api, consumer, calls, discovered_consumer, provider, provider_model, cost_micro_usd
        FROM transactions WHERE started_at >= ${at('2031-01-05T00:00:00Z')} AND started_at < ${at('2031-01-06T00:00:00Z')} ORDER BY started_at`);
      assert.equal(rows.length, batch.length + 1);
      assert.ok(
        rows.every(
          (row) => row.operation === 'observed' && row.api === 'discovery' && row.consumer === null && row.discovered_consumer !== null,
        ),
      );
      assert.deepEqual(
        rows.map((row) => Number(row.calls)),
        [1, 3, 2, 1, 1, 1, 1, 1, 1, 1],
      );
      const totals = await store.usage({
        from: at('2031-01-05T00:00:00Z'),
        to: at('2031-01-06T00:00:00Z'),
        bucket: 'day',
        groupBy: ['resource'],
      });
      assert.deepEqual(
        totals.map((row) => [row.group.resource, row.calls, row.costNanoUsd / 1000, row.unpricedCalls]),
        [
          ['anthropic/claude-x', 1, 1_000, 0],
          ['openai/gpt-4o', 12, 8_000, 2],
        ],
      );
      const hourly = await store.usage({ from: at('2031-01-05T10:00:00Z'), to: at('2031-01-05T11:00:00Z'), bucket: 'hour', groupBy: [] });
      assert.deepEqual(
        hourly.map((row) => row.calls),
        [11],
      );
    });

    test('a batch is all or nothing: one bad observation refuses it, naming the observation and field', async () => {
      const { store } = context;
      const before = await store.countTransactions();
      const good = observed('2031-02-01T10:00:00Z', { ip: '10.62.0.1' });
      const refusals: Array<[Observation, RegExp]> = [
        [observed('2031-02-01T10:00:00Z', { ip: '10.62.0.300' }), /observations\[1\]\.source\.ip/],
        [
          observed('2031-02-01T10:00:00Z', { keyFingerprint: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789' }),
          /observations\[1\]\.source\.keyFingerprint/,
        ],
        [observed('2031-02-01T10:00:00Z', { keyFingerprint: `sha256:${'a'.repeat(32)}` }), /observations\[1\]\.source\.keyFingerprint/],
        [observed('2031-02-01T10:00:00Z', { host: 'api.openai.com' }), /observations\[1\]\.source: needs at least one/],
        [observed('2031-02-01T10:00:00Z', { ip: '10.62.0.2' }, { calls: 0 }), /observations\[1\]\.calls/],
        [observed('2031-02-01T10:00:00Z', { ip: '10.62.0.2' }, { provider: 'a/b' }), /observations\[1\]\.provider/],
      ];
      for (const [bad, message] of refusals) {
        await assert.rejects(store.recordObservations([good, bad]), (error: Error) => {
          assert.ok(error instanceof StoreInvalid, String(error));
          assert.match(error.message, message);
          return true;
        });
      }
      assert.equal(await store.countTransactions(), before, 'nothing of a refused batch is written');
      const queue = await store.listDiscoveredConsumers({ limit: 1000 });
      assert.ok(!queue.items.some((item) => item.identity.value === '10.62.0.1'), 'nor its discovered consumers');
      assert.deepEqual(await store.recordObservations([]), { recorded: 0, consumers: [] });
    });

    test('resolving moves past usage to the consumer and its team, later usage goes there directly, ignoring moves it back', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'recon-ml', owner: 'ml@example.com' });
      await store.createConsumer('admin', { name: 'recon-trainer', team: 'recon-ml' });
      const {
        consumers: [found],
      } = await store.recordObservations([
        observed('2031-03-02T08:15:00Z', { keyFingerprint: 'sha256:bbbb0000bbbb0001' }, { calls: 2, costMicroUsd: 2_000 }),
        observed('2031-03-03T23:59:00Z', { keyFingerprint: 'sha256:bbbb0000bbbb0001' }, { calls: 3, costMicroUsd: 3_000 }),
      ]);
      const id = found!.id;
      const month = ['2031-03-01T00:00:00Z', '2031-04-01T00:00:00Z'] as const;
      assert.deepEqual(await usageBy(store, ...month, ['consumer', 'team']), { '/': [5, 5_000] });

      let resolved: DiscoveredConsumer | undefined;
      assert.equal(
        await versionsMoved(store, async () => {
          resolved = await store.resolveDiscoveredConsumer('alice', id, { consumer: 'recon-trainer' });
        }),
        1,
      );
      assert.deepEqual([resolved!.status, resolved!.consumer, resolved!.resolvedBy], ['resolved', 'recon-trainer', 'alice']);
      assert.deepEqual(await store.getDiscoveredConsumer(id), resolved);
      // Read by month (daily rollups), by day, and by hour (hourly rollups): the same everywhere.
      assert.deepEqual(await usageBy(store, ...month, ['consumer', 'team']), { 'recon-trainer/recon-ml': [5, 5_000] });
      assert.deepEqual(await usageBy(store, ...month, ['consumer'], 'day'), { 'recon-trainer': [5, 5_000] });
      assert.deepEqual(await usageBy(store, '2031-03-02T08:00:00Z', '2031-03-02T09:00:00Z', ['consumer'], 'hour'), {
        'recon-trainer': [2, 2_000],
      });
      const ledger = await context.query(`SELECT consumer, team FROM transactions WHERE discovered_consumer = ${id}`);
      assert.deepEqual(
        ledger.map((row) => [row.consumer, row.team]),
        [
          ['recon-trainer', 'recon-ml'],
          ['recon-trainer', 'recon-ml'],
        ],
      );
      const record = await lastAudit(store);
      assert.deepEqual(
        [record.entityType, record.entityId, record.action, record.actor],
        ['discovered-consumer', String(id), 'update', 'alice'],
      );
      assert.deepEqual(
        [(record.before as { status: string }).status, (record.after as { consumer: string }).consumer],
        ['pending', 'recon-trainer'],
      );

      const next = await store.recordObservations([observed('2031-03-10T12:00:00Z', { keyFingerprint: 'sha256:bbbb0000bbbb0001' })]);
      assert.deepEqual(
        [next.consumers[0]!.status, next.consumers[0]!.consumer, next.consumers[0]!.calls],
        ['resolved', 'recon-trainer', 6],
      );
      assert.deepEqual(await usageBy(store, ...month, ['consumer']), { 'recon-trainer': [6, 6_000] });

      const ignored = await store.resolveDiscoveredConsumer('alice', id, { ignore: true });
      assert.deepEqual([ignored.status, ignored.consumer], ['ignored', null]);
      assert.deepEqual(await usageBy(store, ...month, ['consumer', 'team']), { '/': [6, 6_000] }, 'past usage follows an ignore too');
      const afterIgnore = await store.recordObservations([observed('2031-03-11T12:00:00Z', { keyFingerprint: 'sha256:bbbb0000bbbb0001' })]);
      assert.deepEqual([afterIgnore.consumers[0]!.status, afterIgnore.consumers[0]!.consumer], ['ignored', null]);
      assert.deepEqual(await usageBy(store, ...month, ['consumer']), { '': [7, 7_000] });
      const [emptyKeys] = await context.query(`SELECT COUNT(*) AS count FROM usage_hourly WHERE consumer = 'recon-trainer'`);
      assert.equal(Number(emptyKeys!.count), 0, 'rollup rows left with no calls are removed');
      const [emptyDays] = await context.query(`SELECT COUNT(*) AS count FROM usage_daily WHERE consumer = 'recon-trainer'`);
      assert.equal(Number(emptyDays!.count), 0);
    });

    test("an observation's exact nano-USD cost is recorded and summed, and moves with a resolution: calls under a micro-USD count", async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'recon-embedder' });
      const fingerprint = { keyFingerprint: 'sha256:eeee0000eeee0024' };
      const {
        consumers: [found],
      } = await store.recordObservations([
        // Three 3-token embeddings of 60 nano-USD each: 0 in whole micro-USD.
        observed('2031-11-02T08:15:00Z', fingerprint, { calls: 3, costMicroUsd: 0, costNanoUsd: 180 }),
        // From an observer before costNanoUsd: its whole micro-USD, to the nano-USD.
        observed('2031-11-02T09:15:00Z', fingerprint, { calls: 1, costMicroUsd: 2 }),
      ]);
      const month = ['2031-11-01T00:00:00Z', '2031-12-01T00:00:00Z'] as const;
      const nanoBy = async (groupBy: Array<'consumer'>, bucket: 'hour' | 'month') =>
        (await store.usage({ from: at(month[0]), to: at(month[1]), bucket, groupBy })).map((row) => [row.group.consumer, row.costNanoUsd]);
      assert.deepEqual(await nanoBy(['consumer'], 'month'), [['', 2_180]]);
      const ledger = await context.query(
        `SELECT cost_micro_usd, cost_nano_usd FROM transactions WHERE discovered_consumer = ${found!.id} ORDER BY started_at`,
      );
      assert.deepEqual(
        ledger.map((row) => [Number(row.cost_micro_usd), Number(row.cost_nano_usd)]),
        [
          [0, 180],
          [2, 2_000],
        ],
      );
      await store.resolveDiscoveredConsumer('alice', found!.id, { consumer: 'recon-embedder' });
      assert.deepEqual(await nanoBy(['consumer'], 'month'), [['recon-embedder', 2_180]]);
      assert.deepEqual(await nanoBy(['consumer'], 'hour'), [
        ['recon-embedder', 180],
        ['recon-embedder', 2_000],
      ]);
    });

    test('a resolution can create the consumer; unknown ids, consumers and teams and taken names are refused without trace', async () => {
      const { store } = context;
      const {
        consumers: [found],
      } = await store.recordObservations([observed('2031-04-02T10:00:00Z', { ip: '10.63.0.9' }, { calls: 4 })]);
      const id = found!.id;
      await refusedWithoutTrace(
        store,
        () => store.resolveDiscoveredConsumer('alice', id, { consumer: 'recon-nobody' }),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await refusedWithoutTrace(
        store,
        () => store.resolveDiscoveredConsumer('alice', id, { create: { name: 'recon-new', team: 'recon-no-team' } }),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await refusedWithoutTrace(
        store,
        () => store.resolveDiscoveredConsumer('alice', id, { create: { name: 'recon-trainer' } }),
        (p) => rejectsWith(p, StoreConflict, 'duplicate'),
      );
      await refusedWithoutTrace(
        store,
        () => store.resolveDiscoveredConsumer('alice', 999_999_999, { ignore: true }),
        (p) => rejectsWith(p, StoreNotFound),
      );
      assert.equal(await store.getConsumer('recon-new'), null);
      assert.equal((await store.getDiscoveredConsumer(id))!.status, 'pending');

      const written = await auditWritten(store, async () => {
        const resolved = await store.resolveDiscoveredConsumer('alice', id, {
          create: { name: 'recon-new', team: 'recon-ml', owner: 'bob@example.com', labels: { found: 'proxy' } },
        });
        assert.deepEqual([resolved.status, resolved.consumer], ['resolved', 'recon-new']);
      });
      assert.equal(written, 2, "the consumer's creation and the resolution");
      const created = await store.getConsumer('recon-new');
      assert.deepEqual([created?.team, created?.owner, created?.labels], ['recon-ml', 'bob@example.com', { found: 'proxy' }]);
      assert.deepEqual(await usageBy(store, '2031-04-01T00:00:00Z', '2031-05-01T00:00:00Z', ['consumer', 'team']), {
        'recon-new/recon-ml': [4, 1_000],
      });
    });

    test('rules match CIDRs (IPv4 and IPv6), fingerprints and user-agent prefixes; creating one resolves the pending ones it matches', async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'recon-batch', team: 'recon-ml' });
      await store.createConsumer('admin', { name: 'recon-v6' });
      const seen = await store.recordObservations([
        observed('2031-05-02T10:00:00Z', { ip: '10.64.1.5' }, { calls: 2 }),
        observed('2031-05-02T10:00:00Z', { ip: '10.65.0.1' }),
        observed('2031-05-02T10:00:00Z', { ip: '2001:db8:64::7' }),
        observed('2031-05-02T10:00:00Z', { ip: '2001:db8:65::7' }),
        observed('2031-05-02T10:00:00Z', { userAgent: 'recon-runner/1.2', host: 'api.openai.com' }),
        observed('2031-05-02T10:00:00Z', { keyFingerprint: 'sha256:cccc0000cccc0001', ip: '10.66.0.1' }),
        observed('2031-05-02T10:00:00Z', { ip: '10.64.200.1' }),
      ]);
      const ignoredOne = seen.consumers.find((item) => item.identity.value === '10.64.200.1')!;
      await store.resolveDiscoveredConsumer('alice', ignoredOne.id, { ignore: true });

      const v4 = await store.createReconciliationRule('alice', {
        match: { cidr: '10.64.0.0/16' },
        consumer: 'recon-batch',
        note: 'the batch subnet',
      });
      assert.deepEqual([v4.rule.match, v4.rule.consumer, v4.rule.note], [{ cidr: '10.64.0.0/16' }, 'recon-batch', 'the batch subnet']);
      assert.deepEqual(
        v4.resolved.map((item) => [item.identity.value, item.status, item.consumer, item.resolvedBy]),
        [['10.64.1.5', 'resolved', 'recon-batch', `rule:${v4.rule.id}`]],
        'not 10.65.0.1, and not the ignored 10.64.200.1',
      );
      const v6 = await store.createReconciliationRule('alice', { match: { cidr: '2001:DB8:64::/48' }, consumer: 'recon-v6' });
      assert.equal(v6.rule.match.cidr, '2001:db8:64::/48');
      assert.deepEqual(
        v6.resolved.map((item) => item.identity.value),
        ['2001:db8:64::7'],
      );
      const agent = await store.createReconciliationRule('alice', { match: { userAgent: 'recon-runner/' }, consumer: 'recon-batch' });
      assert.deepEqual(
        agent.resolved.map((item) => item.identity.value),
        ['recon-runner/1.2'],
      );
      // Every condition must hold: this fingerprint was seen from 10.66.0.1, not from inside 10.67.0.0/16.
      const both = await store.createReconciliationRule('alice', {
        match: { keyFingerprint: 'sha256:CCCC0000cccc0001', cidr: '10.67.0.0/16' },
        consumer: 'recon-batch',
      });
      assert.deepEqual([both.rule.match, both.resolved], [{ cidr: '10.67.0.0/16', keyFingerprint: 'sha256:cccc0000cccc0001' }, []]);
      assert.equal((await byValue(store, '10.65.0.1')).status, 'pending');
      assert.equal((await byValue(store, '10.64.200.1')).status, 'ignored');
      assert.deepEqual(await usageBy(store, '2031-05-01T00:00:00Z', '2031-06-01T00:00:00Z', ['consumer']), {
        '': [4, 4_000],
        'recon-batch': [3, 2_000],
        'recon-v6': [1, 1_000],
      });

      // Audited: the rule's creation, and each discovered consumer it resolved.
      const ruleRecords = await allAudit(store, { entityType: 'reconciliation-rule', entityId: String(v4.rule.id) });
      assert.deepEqual(
        ruleRecords.map((r) => [r.action, r.actor, (r.after as { consumer: string }).consumer]),
        [['create', 'alice', 'recon-batch']],
      );
      const resolvedRecord = await allAudit(store, { entityType: 'discovered-consumer', entityId: String(v4.resolved[0]!.id) });
      assert.deepEqual(
        resolvedRecord.map((r) => (r.after as { resolvedBy: string }).resolvedBy),
        [`rule:${v4.rule.id}`],
      );

      // Intake applies rules to new traffic: a new caller in the subnet goes to the rule's consumer directly.
      const fresh = await store.recordObservations([observed('2031-05-03T10:00:00Z', { ip: '10.64.77.1', userAgent: 'x' })]);
      assert.deepEqual(
        [fresh.consumers[0]!.status, fresh.consumers[0]!.consumer, fresh.consumers[0]!.resolvedBy],
        ['resolved', 'recon-batch', `rule:${v4.rule.id}`],
      );
      const [row] = await context.query(`SELECT consumer, team FROM transactions WHERE discovered_consumer = ${fresh.consumers[0]!.id}`);
      assert.deepEqual([row?.consumer, row?.team], ['recon-batch', 'recon-ml']);
      // Both conditions met by one observation: the pending fingerprint is resolved, its earlier usage moved with it.
      const met = await store.recordObservations([
        observed('2031-05-04T10:00:00Z', { keyFingerprint: 'sha256:cccc0000cccc0001', ip: '10.67.3.3' }),
      ]);
      assert.deepEqual(
        [met.consumers[0]!.status, met.consumers[0]!.consumer, met.consumers[0]!.resolvedBy],
        ['resolved', 'recon-batch', `rule:${both.rule.id}`],
      );
      const moved = await context.query(
        `SELECT consumer FROM transactions WHERE discovered_consumer = ${met.consumers[0]!.id} ORDER BY started_at`,
      );
      assert.deepEqual(
        moved.map((r) => r.consumer),
        ['recon-batch', 'recon-batch'],
      );
      assert.deepEqual(await usageBy(store, '2031-05-01T00:00:00Z', '2031-06-01T00:00:00Z', ['consumer']), {
        '': [3, 3_000],
        'recon-batch': [6, 5_000],
        'recon-v6': [1, 1_000],
      });
      // The oldest matching rule wins; rules are listed in that order.
      assert.deepEqual(
        (await store.listReconciliationRules()).filter((r) => r.consumer.startsWith('recon-')).map((r) => r.id),
        [v4.rule.id, v6.rule.id, agent.rule.id, both.rule.id],
      );
      assert.deepEqual(await store.getReconciliationRule(v6.rule.id), v6.rule);
    });

    test('rules are checked, deleted with an audit record, and deleted with their consumer', async () => {
      const { store } = context;
      await refusedWithoutTrace(
        store,
        () => store.createReconciliationRule('alice', { match: {}, consumer: 'recon-batch' }),
        (p) => rejectsWith(p, StoreInvalid),
      );
      await refusedWithoutTrace(
        store,
        () => store.createReconciliationRule('alice', { match: { cidr: '10.0.0.0/33' }, consumer: 'recon-batch' }),
        (p) => rejectsWith(p, StoreInvalid),
      );
      await refusedWithoutTrace(
        store,
        () => store.createReconciliationRule('alice', { match: { cidr: 'not-a-network' }, consumer: 'recon-batch' }),
        (p) => rejectsWith(p, StoreInvalid),
      );
      await refusedWithoutTrace(
        store,
        () => store.createReconciliationRule('alice', { match: { keyFingerprint: 'sk-live-key' }, consumer: 'recon-batch' }),
        (p) => rejectsWith(p, StoreInvalid),
      );
      await refusedWithoutTrace(
        store,
        () => store.createReconciliationRule('alice', { match: { cidr: '10.68.0.0/16' }, consumer: 'recon-nobody' }),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await refusedWithoutTrace(
        store,
        () => store.deleteReconciliationRule('alice', 999_999_999),
        (p) => rejectsWith(p, StoreNotFound),
      );

      await store.createConsumer('admin', { name: 'recon-temp' });
      const { rule } = await store.createReconciliationRule('alice', { match: { cidr: '10.68.0.0/16' }, consumer: 'recon-temp' });
      const first = await store.recordObservations([observed('2031-06-02T10:00:00Z', { ip: '10.68.0.1' })]);
      assert.equal(first.consumers[0]!.consumer, 'recon-temp');

      assert.equal(await versionsMoved(store, () => store.deleteReconciliationRule('alice', rule.id)), 1);
      const record = await lastAudit(store);
      assert.deepEqual(
        [record.entityType, record.entityId, record.action, record.after],
        ['reconciliation-rule', String(rule.id), 'delete', null],
      );
      assert.equal(await store.getReconciliationRule(rule.id), null);
      assert.equal(
        (await store.getDiscoveredConsumer(first.consumers[0]!.id))!.status,
        'resolved',
        'what a deleted rule resolved stays resolved',
      );

      // A consumer's rules go with it, so a consumer made later under its name is not given their traffic.
      const { rule: again } = await store.createReconciliationRule('alice', { match: { cidr: '10.69.0.0/16' }, consumer: 'recon-temp' });
      await store.deleteConsumer('admin', 'recon-temp');
      assert.equal(await store.getReconciliationRule(again.id), null);
      await store.createConsumer('admin', { name: 'recon-temp' });
      const orphan = await store.recordObservations([observed('2031-06-02T11:00:00Z', { ip: '10.69.0.2' })]);
      assert.deepEqual(
        [orphan.consumers[0]!.status, orphan.consumers[0]!.consumer],
        ['pending', null],
        'no rule of the deleted consumer matches for the new one',
      );
      await store.deleteConsumer('admin', 'recon-temp');
    });

    test("a deleted rule's id is never handed out again, not even the newest one's", async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'recon-ids' });
      const rule = async (fingerprint: string) =>
        (await store.createReconciliationRule('alice', { match: { keyFingerprint: fingerprint }, consumer: 'recon-ids' })).rule;
      const older = await rule('sha256:1d50000000000001');
      const newest = await rule('sha256:1d50000000000002');
      await store.deleteReconciliationRule('alice', newest.id);
      const made = await rule('sha256:1d50000000000003');
      assert.ok(made.id > newest.id, `id ${made.id} was handed out again after rule ${newest.id} was deleted`);
      assert.equal(await store.getReconciliationRule(newest.id), null, 'the deleted id names no rule');
      assert.deepEqual(
        (await allAudit(store, { entityType: 'reconciliation-rule', entityId: String(made.id) })).map((record) => record.action),
        ['create'],
        'the audit log names the new rule only once',
      );
      await store.deleteConsumer('admin', 'recon-ids');
      assert.equal(await store.getReconciliationRule(older.id), null);
    });

    test('the queue lists by status in the order discovered, a page at a time', async () => {
      const { store } = context;
      await store.recordObservations(
        ['10.69.0.1', '10.69.0.2', '10.69.0.3', '10.69.0.4', '10.69.0.5'].map((ip) => observed('2031-07-02T10:00:00Z', { ip })),
      );
      const ids: number[] = [];
      let pages = 0;
      for (let cursor: string | null = null; ;) {
        const page = await store.listDiscoveredConsumers({ status: 'pending', limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        assert.ok(page.items.every((item) => item.status === 'pending'));
        ids.push(...page.items.map((item) => item.id));
        pages += 1;
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      assert.ok(pages >= 3);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'in the order discovered',
      );
      assert.equal(new Set(ids).size, ids.length, 'each once');
      const resolved = (await store.listDiscoveredConsumers({ status: 'resolved', limit: 1000 })).items;
      assert.ok(resolved.length > 0 && resolved.every((item) => item.status === 'resolved' && item.consumer !== null));
      const ignored = (await store.listDiscoveredConsumers({ status: 'ignored', limit: 1000 })).items;
      assert.ok(ignored.length > 0 && ignored.every((item) => item.status === 'ignored'));
      await rejectsWith(store.listDiscoveredConsumers({ cursor: 'garbage' }), StoreInvalid);
      await rejectsWith(store.listDiscoveredConsumers({ limit: 0 }), StoreInvalid);
    });

    test('discovered resources are the provider/models the rollups hold with no status, gateway calls and observations alike', async () => {
      const { store } = context;
      await store.insertTransactions([
        gatewayCall('2031-08-02T10:15:00Z'),
        gatewayCall('2031-08-02T12:15:00Z'),
        gatewayCall('2031-08-02T12:45:00Z'),
        gatewayCall('2031-08-02T10:15:00Z', { providerModel: 'model-b' }),
        gatewayCall('2031-08-02T10:15:00Z', { providerModel: 'model-c' }),
        gatewayCall('2031-08-02T10:15:00Z', { providerModel: 'model-d' }),
      ]);
      await store.recordObservations([
        observed('2031-08-03T09:00:00Z', { ip: '10.70.0.1' }, { provider: 'recon-obs', model: 'x-1', calls: 7 }),
      ]);
      await store.createResource('security', { id: 'recon-gw/model-b', status: 'sanctioned' });
      await store.createResource('security', { id: 'recon-gw/model-c', status: 'unsanctioned' });
      await store.createResource('security', { id: 'recon-gw/model-d', status: 'unreviewed' });
      const found = (await store.listDiscoveredResources()).filter((r) => r.provider.startsWith('recon-'));
      assert.deepEqual(found, [
        {
          id: 'recon-gw/model-a',
          provider: 'recon-gw',
          model: 'model-a',
          firstSeenAt: at('2031-08-02T10:00:00Z'),
          lastSeenAt: at('2031-08-02T12:00:00Z'),
          calls: 3,
        },
        {
          id: 'recon-gw/model-d',
          provider: 'recon-gw',
          model: 'model-d',
          firstSeenAt: at('2031-08-02T10:00:00Z'),
          lastSeenAt: at('2031-08-02T10:00:00Z'),
          calls: 1,
        },
        {
          id: 'recon-obs/x-1',
          provider: 'recon-obs',
          model: 'x-1',
          firstSeenAt: at('2031-08-03T09:00:00Z'),
          lastSeenAt: at('2031-08-03T09:00:00Z'),
          calls: 7,
        },
      ]);
      await store.createResource('security', { id: 'recon-obs/x-1', status: 'sanctioned' });
      assert.ok(!(await store.listDiscoveredResources()).some((r) => r.id === 'recon-obs/x-1'), 'a status takes it off the list');
    });

    test('intake and resolution at the same time lose no usage (two stores on one database)', async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'recon-racer', team: 'recon-ml' });
      const other = await context.open();
      try {
        const source = { keyFingerprint: 'sha256:dddd0000dddd0001' };
        const {
          consumers: [found],
        } = await store.recordObservations([observed('2031-09-02T10:00:00Z', source)]);
        const batches = Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : other).recordObservations([
            observed(`2031-09-02T1${i % 4}:0${i % 6}:00Z`, source, { calls: 2 }),
            observed('2031-09-02T10:00:00Z', { ip: `10.71.0.${i}` }),
          ]),
        );
        const resolution = other.resolveDiscoveredConsumer('alice', found!.id, { consumer: 'recon-racer' });
        await Promise.all([...batches, resolution]);
        const [rows] = await context.query(
          `SELECT COUNT(*) AS count FROM transactions WHERE discovered_consumer = ${found!.id} AND (consumer IS NULL OR consumer <> 'recon-racer')`,
        );
        assert.equal(Number(rows!.count), 0, 'every row of it has the consumer');
        const usage = await usageBy(store, '2031-09-01T00:00:00Z', '2031-10-01T00:00:00Z', ['consumer', 'team']);
        assert.deepEqual(usage['recon-racer/recon-ml'], [25, 13_000]);
        assert.deepEqual(usage['/'], [12, 12_000]);
        assert.deepEqual(await usageBy(store, '2031-09-02T10:00:00Z', '2031-09-02T14:00:00Z', ['consumer'], 'hour'), {
          '': [12, 12_000],
          'recon-racer': [25, 13_000],
        });
      } finally {
        await other.close();
      }
    });
  });
}
