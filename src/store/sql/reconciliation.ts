// Reconciliation: observed traffic into the ledger and the discovered consumers it came from, their resolution (past usage
// follows: ledger rows and rollups move together), rules that resolve discoveries by their hints, and discovered resources.
import { randomUUID } from 'node:crypto';
import type { Consumer } from '../admin-store.js';
import type { Page } from '../records.js';
import {
  DISCOVERY_STATUSES,
  emptyHints,
  type DiscoveredConsumer,
  type DiscoveredConsumerFilter,
  type DiscoveredResource,
  type DiscoveryPolicy,
  type DiscoveryResolution,
  type DiscoveryStatus,
  type Hints,
  type IdentityKind,
  type IntakeResult,
  type Observation,
  type ObservationSource,
  type ReconciliationRule,
  type ReconciliationRuleInput,
  type RuleMatch,
} from '../reconciliation-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../errors.js';
import type { Change, Reader } from './change.js';
import { decodeCursor, pageLimit, toPage } from './cursor.js';
import { createConsumer, getConsumer, getTeam } from './directory.js';
import { OBSERVATION_INSERT_SIZES, type ReconciliationStatement } from './reconciliation-statements.js';
import { addToRollups, moveInRollups, rollupLines, type RollupAggregateRow, type RollupSource } from './rollup.js';
import type { SqlValue } from './session.js';
import { microFromNano, NANOS_PER_MICRO } from '../../metering/cost.js';

export const MAX_CALLS_PER_OBSERVATION = 1_000_000;
/** The ledger's token columns are 32-bit in PostgreSQL. */
export const MAX_TOKENS_PER_OBSERVATION = 1_000_000_000;
export const MAX_COST_PER_OBSERVATION = 1_000_000_000_000_000;

interface DiscoveredRow {
  id: number;
  identity_kind: IdentityKind;
  identity_value: string;
  identity_host: string;
  hints: unknown;
  first_seen_at: number;
  last_seen_at: number;
  calls: number;
  status: DiscoveryStatus;
  consumer: string | null;
  resolved_by: string | null;
  resolved_at: number | null;
}

interface RuleRow {
  id: number;
  match_cidr: string | null;
  match_key_fingerprint: string | null;
  match_user_agent: string | null;
  consumer: string;
  note: string | null;
  created_at: number;
}

interface ResourceSeenRow {
  provider: string;
  provider_model: string;
  first_hour: number;
  last_hour: number;
  calls: number;
}

function discovered(read: Reader, row: DiscoveredRow): DiscoveredConsumer {
  return {
    id: Number(row.id),
    identity: { kind: row.identity_kind, value: row.identity_value, host: row.identity_host === '' ? null : row.identity_host },
    hints: { ...emptyHints(), ...(read.json.decode(row.hints) as unknown as Hints) },
    firstSeenAt: Number(row.first_seen_at),
    lastSeenAt: Number(row.last_seen_at),
    calls: Number(row.calls),
    status: row.status,
    consumer: row.consumer,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at === null ? null : Number(row.resolved_at),
  };
}

function rule(row: RuleRow): ReconciliationRule {
  const match: RuleMatch = {};
  if (row.match_cidr !== null) match.cidr = row.match_cidr;
  if (row.match_key_fingerprint !== null) match.keyFingerprint = row.match_key_fingerprint;
  if (row.match_user_agent !== null) match.userAgent = row.match_user_agent;
  return { id: Number(row.id), match, consumer: row.consumer, note: row.note, createdAt: Number(row.created_at) };
}

const all = <Row>(read: Reader, statement: ReconciliationStatement, params: readonly SqlValue[]) =>
  read.session.all<Row>(statement, params);

// ---------------------------------------------------------------------------------------------------------------- intake

interface Checked {
  observation: Observation;
  source: ObservationSource;
  calls: number;
}

const isCount = (value: unknown, max: number) => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

/** The batch checked as a whole before anything is written; the first problem, by its path, is the StoreInvalid's message. */
function check(policy: DiscoveryPolicy, observations: readonly Observation[]): Checked[] {
  return observations.map((observation, index) => {
    const at = `observations[${index}]`;
    const invalid = (path: string, message: string) =>
      new StoreInvalid(`${at}.${path}: ${message}`, { field: `observations.${index}.${path}` });
    if (typeof observation.observer !== 'string' || observation.observer.trim() === '' || observation.observer.length > 200) {
      throw invalid('observer', '1 to 200 characters');
    }
    if (typeof observation.at !== 'number' || !Number.isSafeInteger(observation.at) || observation.at < 0)
      throw invalid('at', 'epoch milliseconds');
    if (typeof observation.provider !== 'string' || !/^[^/\s]{1,200}$/.test(observation.provider))
      throw invalid('provider', 'a provider name, without "/"');
    if (typeof observation.model !== 'string' || observation.model.length < 1 || observation.model.length > 500)
      throw invalid('model', '1 to 500 characters');
    const calls = observation.calls ?? 1;
    if (!isCount(calls, MAX_CALLS_PER_OBSERVATION) || calls < 1)
      throw invalid('calls', `a whole number from 1 to ${MAX_CALLS_PER_OBSERVATION}`);
    for (const field of ['inputTokens', 'outputTokens'] as const) {
      const value = observation[field];
      if (value !== undefined && !isCount(value, MAX_TOKENS_PER_OBSERVATION))
        throw invalid(field, `a whole number from 0 to ${MAX_TOKENS_PER_OBSERVATION}`);
    }
    const cost = observation.costMicroUsd;
    if (cost !== undefined && cost !== null && !isCount(cost, MAX_COST_PER_OBSERVATION))
      throw invalid('costMicroUsd', 'whole micro-USD, 0 or more');
    const exact = observation.costNanoUsd;
    if (exact !== undefined && exact !== null && !isCount(exact, Number.MAX_SAFE_INTEGER))
      throw invalid('costNanoUsd', 'whole nano-USD, 0 or more');
    const source = observation.source ?? {};
    const [problem] = policy.sourceProblems(source);
    if (problem !== undefined) throw invalid(problem.field === '(source)' ? 'source' : `source.${problem.field}`, problem.message);
    return { observation, source: policy.normalizeSource(source), calls };
  });
}

interface Group {
  kind: IdentityKind;
  value: string;
  host: string;
  members: Checked[];
}

/** The batch's observations per identity, in identity order: the order every transaction takes discovered consumers' locks in. */
function groupByIdentity(policy: DiscoveryPolicy, checked: readonly Checked[]): Group[] {
  const groups = new Map<string, Group>();
  for (const item of checked) {
    const identity = policy.identityOf(item.source);
    const host = identity.host ?? '';
    const id = JSON.stringify([identity.kind, identity.value, host]);
    let group = groups.get(id);
    if (group === undefined) {
      group = { kind: identity.kind, value: identity.value, host, members: [] };
      groups.set(id, group);
    }
    group.members.push(item);
  }
  const order = (a: Group, b: Group) => compare(a.kind, b.kind) || compare(a.value, b.value) || compare(a.host, b.host);
  return [...groups.values()].sort(order);
}

/** Byte order of UTF-8, as both databases compare these columns. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Consumers' teams looked up once per transaction; undefined is not looked up yet, null a consumer that no longer exists. */
class Consumers {
  private readonly known = new Map<string, Consumer | null>();

  constructor(private readonly read: Reader) {}

  async get(name: string): Promise<Consumer | null> {
    if (!this.known.has(name)) this.known.set(name, await getConsumer(this.read, name));
    return this.known.get(name)!;
  }
}

type LedgerRow = RollupSource & { values: SqlValue[] };

function ledgerRow(item: Checked, discoveredId: number, consumer: string | null, team: string | null): LedgerRow {
  const { observation, calls } = item;
  const inputTokens = observation.inputTokens ?? 0;
  const outputTokens = observation.outputTokens ?? 0;
  const micro = observation.costMicroUsd ?? null;
  const nanoCost = observation.costNanoUsd ?? (micro === null ? null : micro * NANOS_PER_MICRO);
  const cost = nanoCost === null ? null : microFromNano(nanoCost);
  // In TRANSACTION_COLUMNS order (statements.ts), then calls and discovered_consumer: an observed call was served elsewhere,
  // so Sluice made no attempt, measured no latency, and records it as a success; no identity authenticated it here, no
  // response cache saved it, and an observation states no cache writes, web searches, service tier, file searches or
  // reasoning tokens. Its cost: the intake's costNanoUsd, or an earlier observer's micro-USD x 1,000 (as it rounded).
  const values: SqlValue[] = [
    `observed-${randomUUID()}`,
    observation.at,
    'observed',
    'discovery',
    consumer,
    team,
    observation.model,
    observation.provider,
    observation.model,
    0,
    inputTokens,
    outputTokens,
    0,
    0,
    0,
    cost,
    0,
    null,
    200,
    null,
    0,
    null,
    null,
    null,
    0,
    0,
    0,
    null,
    0,
    nanoCost,
    0,
    null,
    calls,
    discoveredId,
  ];
  return {
    values,
    startedAt: observation.at,
    consumer,
    team,
    requestedModel: observation.model,
    provider: observation.provider,
    providerModel: observation.model,
    status: 200,
    errorClass: null,
    inputTokens,
    outputTokens,
    cachedInputTokens: 0,
    costMicroUsd: cost,
    costNanoUsd: nanoCost,
    calls,
  };
}

/** Intake: see ReconciliationStore.recordObservations. Runs in one transaction that is not an admin change. */
export async function recordObservations(
  read: Reader,
  policy: DiscoveryPolicy,
  now: number,
  observations: readonly Observation[],
  batchKey?: string,
): Promise<IntakeResult> {
  if (observations.length === 0) return { recorded: 0, consumers: [] };
  const groups = groupByIdentity(policy, check(policy, observations));
  // The batch's key is claimed first, in this transaction, as a ledger batch's is (ledger.ts): a batch sent again after a
  // commit whose answer was lost finds it taken and writes nothing; on PostgreSQL a second sending at the same moment
  // waits for the first to commit, then finds it taken. Prefixed, so no gateway's ledger batch key can be one.
  if (
    batchKey !== undefined &&
    (await read.session.run('ledgerBatchClaim', [`observations:${batchKey}`, now, observations.length])) === 0
  ) {
    return { recorded: 0, consumers: [], replayed: true };
  }
  const consumers = new Consumers(read);
  const rules = (await all<RuleRow>(read, 'ruleList', [])).map(rule).map((r) => ({ rule: r, matcher: policy.compileRule(r.match) }));
  const rows: LedgerRow[] = [];
  /** Each as it now is: the upsert's row, its hints merged, its resolution applied. */
  const touched: DiscoveredConsumer[] = [];
  const resolvedByRule: Array<{ id: number; consumer: string; team: string | null }> = [];
  for (const group of groups) {
    const hints = emptyHints();
    for (const member of group.members) policy.mergeHints(hints, member.source, member.observation.observer);
    const times = group.members.map((member) => member.observation.at);
    const calls = group.members.reduce((sum, member) => sum + member.calls, 0);
    const [upserted] = await all<DiscoveredRow>(read, 'discoveredUpsert', [
      group.kind,
      group.value,
      group.host,
      read.json.encode(hints),
      Math.min(...times),
      Math.max(...times),
      calls,
    ]);
    let current = discovered(read, upserted!);
    let changed = false;
    for (const member of group.members) changed = policy.mergeHints(current.hints, member.source, member.observation.observer) || changed;
    if (changed) await read.session.run('discoveredHintsUpdate', [read.json.encode(current.hints), current.id]);

    let consumer: string | null = null;
    let byRule = false;
    if (current.status === 'resolved') consumer = current.consumer;
    else if (current.status === 'pending') {
      for (const { rule: candidate, matcher } of rules) {
        if (!group.members.some((member) => matcher.matchesSource(member.source))) continue;
        if ((await consumers.get(candidate.consumer)) === null) continue;
        consumer = candidate.consumer;
        byRule = true;
        await read.session.run('discoveredResolve', ['resolved', consumer, `rule:${candidate.id}`, now, current.id]);
        current = { ...current, status: 'resolved', consumer, resolvedBy: `rule:${candidate.id}`, resolvedAt: now };
        break;
      }
    }
    const team = consumer === null ? null : ((await consumers.get(consumer))?.team ?? null);
    if (byRule && consumer !== null) resolvedByRule.push({ id: current.id, consumer, team });
    for (const member of group.members) rows.push(ledgerRow(member, current.id, consumer, team));
    touched.push(current);
  }
  for (let at = 0; at < rows.length;) {
    const size = OBSERVATION_INSERT_SIZES.find((candidate) => candidate <= rows.length - at)!;
    await read.session.run(
      `observationInsert:${size}`,
      rows.slice(at, at + size).flatMap((row) => row.values),
    );
    at += size;
  }
  await addToRollups(read.session, rows);
  // Resolved by a rule just now: the usage it had before this batch follows (this batch's rows already carry the consumer).
  for (const resolved of resolvedByRule) await attribute(read, resolved.id, resolved.consumer, resolved.team);
  return { recorded: rows.length, consumers: touched };
}

/** Every ledger row of the discovered consumer gets `consumer` and `team`, and the rollups move with them. */
async function attribute(read: Reader, id: number, consumer: string | null, team: string | null): Promise<void> {
  const lines = rollupLines(await all<RollupAggregateRow>(read, 'ledgerDiscoveredSums', [id]));
  if (lines.length === 0) return;
  await read.session.run('ledgerAttribute', [consumer, team, id]);
  await moveInRollups(read.session, lines, { consumer, team });
}

// ----------------------------------------------------------------------------------------------------------------- queue

export async function getDiscoveredConsumer(read: Reader, id: number): Promise<DiscoveredConsumer | null> {
  if (!Number.isSafeInteger(id)) return null;
  const [row] = await all<DiscoveredRow>(read, 'discoveredGet', [id]);
  return row === undefined ? null : discovered(read, row);
}

export async function listDiscoveredConsumers(read: Reader, filter: DiscoveredConsumerFilter): Promise<Page<DiscoveredConsumer>> {
  const limit = pageLimit(filter.limit);
  const status = filter.status ?? null;
  if (status !== null && !DISCOVERY_STATUSES.includes(status))
    throw new StoreInvalid(`status must be one of ${DISCOVERY_STATUSES.join(', ')}`, { field: 'status' });
  const listing = { name: 'discovered consumers', filters: [status] };
  const after = decodeCursor(filter.cursor, listing, 'number');
  const rows = await all<DiscoveredRow>(read, 'discoveredList', [status, status, after, after, limit + 1]);
  return toPage(
    rows,
    limit,
    listing,
    (row) => discovered(read, row),
    (item) => item.id,
  );
}

export async function listDiscoveredResources(read: Reader): Promise<DiscoveredResource[]> {
  return (await all<ResourceSeenRow>(read, 'discoveredResources', [])).map((row) => ({
    id: `${row.provider}/${row.provider_model}`,
    provider: row.provider,
    model: row.provider_model,
    firstSeenAt: Number(row.first_hour),
    lastSeenAt: Number(row.last_hour),
    calls: Number(row.calls),
  }));
}

// --------------------------------------------------------------------------------------------------------------- resolve

async function existingDiscovered(read: Reader, id: number): Promise<DiscoveredConsumer> {
  const found = await getDiscoveredConsumer(read, id);
  if (found === null) throw new StoreNotFound('discovered-consumer', String(id));
  return found;
}

/** The consumer a resolution names, made first when it is to be created; null for `ignore`. */
async function target(change: Change, resolution: DiscoveryResolution): Promise<Consumer | null> {
  if ('ignore' in resolution) {
    if (resolution.ignore !== true) throw new StoreInvalid('ignore must be true', { field: 'ignore' });
    return null;
  }
  if ('consumer' in resolution) {
    const found = await getConsumer(change, resolution.consumer);
    if (found === null) throw new StoreConflict('reference', `consumer "${resolution.consumer}" does not exist`);
    return found;
  }
  if ('create' in resolution) {
    const input = resolution.create;
    // Checked here for messages that name the consumer and team; the schema still refuses what a concurrent change slips in.
    if ((await getConsumer(change, input.name)) !== null) throw new StoreConflict('duplicate', `consumer "${input.name}" already exists`);
    if (input.team !== undefined && input.team !== null && (await getTeam(change, input.team)) === null) {
      throw new StoreConflict('reference', `team "${input.team}" does not exist; create it first`);
    }
    return createConsumer(change, input);
  }
  throw new StoreInvalid('a resolution is one of { consumer }, { create }, { ignore: true }', { field: '(body)' });
}

/**
 * Marks each resolved (or ignored) first, taking their rows' locks in identity order before the ledger or the rollups are
 * touched (intake takes them in that order too), then moves each one's usage and audits it.
 */
async function settle(
  change: Change,
  items: readonly DiscoveredConsumer[],
  consumer: Consumer | null,
  resolvedBy: string,
): Promise<DiscoveredConsumer[]> {
  const status: DiscoveryStatus = consumer === null ? 'ignored' : 'resolved';
  for (const item of items)
    await change.session.run('discoveredResolve', [status, consumer?.name ?? null, resolvedBy, change.now, item.id]);
  const settled: DiscoveredConsumer[] = [];
  for (const before of items) {
    await attribute(change, before.id, consumer?.name ?? null, consumer?.team ?? null);
    const after: DiscoveredConsumer = { ...before, status, consumer: consumer?.name ?? null, resolvedBy, resolvedAt: change.now };
    await change.audit('update', 'discovered-consumer', String(before.id), before, after);
    settled.push(after);
  }
  return settled;
}

export async function resolveDiscoveredConsumer(
  change: Change,
  actor: string,
  id: number,
  resolution: DiscoveryResolution,
): Promise<DiscoveredConsumer> {
  const before = await existingDiscovered(change, id);
  const consumer = await target(change, resolution);
  const [after] = await settle(change, [before], consumer, actor);
  return after!;
}

// ----------------------------------------------------------------------------------------------------------------- rules

export async function getReconciliationRule(read: Reader, id: number): Promise<ReconciliationRule | null> {
  if (!Number.isSafeInteger(id)) return null;
  const [row] = await all<RuleRow>(read, 'ruleGet', [id]);
  return row === undefined ? null : rule(row);
}

export async function listReconciliationRules(read: Reader): Promise<ReconciliationRule[]> {
  return (await all<RuleRow>(read, 'ruleList', [])).map(rule);
}

export async function createReconciliationRule(
  change: Change,
  policy: DiscoveryPolicy,
  input: ReconciliationRuleInput,
): Promise<{ rule: ReconciliationRule; resolved: DiscoveredConsumer[] }> {
  const match = input.match ?? {};
  const [problem] = policy.matchProblems(match);
  if (problem !== undefined) {
    const field = problem.field === '(match)' ? 'match' : `match.${problem.field}`;
    throw new StoreInvalid(`${field}: ${problem.message}`, { field });
  }
  const consumer = await getConsumer(change, input.consumer);
  if (consumer === null) throw new StoreConflict('reference', `consumer "${input.consumer}" does not exist`);
  const normalized = policy.normalizeMatch(match);
  const [row] = await all<RuleRow>(change, 'ruleInsert', [
    normalized.cidr ?? null,
    normalized.keyFingerprint ?? null,
    normalized.userAgent ?? null,
    consumer.name,
    input.note ?? null,
    change.now,
  ]);
  const created = rule(row!);
  await change.audit('create', 'reconciliation-rule', String(created.id), null, created);
  const matcher = policy.compileRule(created.match);
  const pending = (await all<DiscoveredRow>(change, 'discoveredPending', []))
    .map((r) => discovered(change, r))
    .filter((d) => matcher.matchesHints(d.hints));
  return { rule: created, resolved: await settle(change, pending, consumer, `rule:${created.id}`) };
}

/**
 * A deleted consumer's rules go with it (each deletion audited), as its keys and identity rules do: left behind, they would
 * give the traffic they match to whichever consumer is made later under the same name, and its team the bill.
 */
export async function deleteRulesOfConsumer(change: Change, consumer: string): Promise<void> {
  for (const found of await listReconciliationRules(change)) {
    if (found.consumer !== consumer) continue;
    await change.session.run('ruleDelete', [found.id]);
    await change.audit('delete', 'reconciliation-rule', String(found.id), found, null);
  }
}

export async function deleteReconciliationRule(change: Change, id: number): Promise<void> {
  const before = await getReconciliationRule(change, id);
  if (before === null) throw new StoreNotFound('reconciliation-rule', String(id));
  await change.session.run('ruleDelete', [id]);
  await change.audit('delete', 'reconciliation-rule', String(id), before, null);
}
