// What the contract's parts share: the store under test, its clock, raw SQL on its database, and assertion helpers.
import assert from 'node:assert/strict';
import type { AuditFilter, AuditRecord, DirectorStore } from '../../../src/store/director-store.js';

/** A fresh database for one run of the contract. */
export interface StoreHarness {
  /** The `storage` URL of the database. */
  storage: string;
  /** SQL run straight on the database, past the store: to see what it stored and to try what it must refuse. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Removes the database. */
  close(): Promise<void>;
}

export interface ContractContext {
  readonly store: DirectorStore;
  /** The store's clock: moves only when told to. */
  clock: { now(): number; advance(ms: number): void };
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Another store on the same database, with the same clock. */
  open(): Promise<DirectorStore>;
  /** Every plaintext secret the store handed out; none may ever appear in an audit record. */
  secrets: string[];
}

/** The error a promise must reject with: its class, and for conflicts the reason. */
export async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, reason?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (reason !== undefined) assert.equal((error as { reason?: string }).reason, reason);
    return true;
  });
}

/** Every audit record matching the filter, newest first, walking all pages. */
export async function allAudit(store: DirectorStore, filter: Omit<AuditFilter, 'limit' | 'cursor'>): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listAudit({ ...filter, limit: 100, cursor });
    records.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return records;
}

/** The newest audit record, which the change just made must have written. */
export async function lastAudit(store: DirectorStore): Promise<AuditRecord> {
  const page = await store.listAudit({ limit: 1 });
  assert.ok(page.items[0] !== undefined, 'an audit record');
  return page.items[0];
}

/** How many times `work` moved the config version. */
export async function versionsMoved(store: DirectorStore, work: () => Promise<unknown>): Promise<number> {
  const before = await store.configVersion();
  await work();
  return (await store.configVersion()) - before;
}

/** How many audit records `work` wrote. */
export async function auditWritten(store: DirectorStore, work: () => Promise<unknown>): Promise<number> {
  const before = (await allAudit(store, {})).length;
  await work();
  return (await allAudit(store, {})).length - before;
}

/** A change that failed wrote nothing: no audit record, no version. */
export async function refusedWithoutTrace(
  store: DirectorStore,
  work: () => Promise<unknown>,
  check: (promise: Promise<unknown>) => Promise<void>,
): Promise<void> {
  const version = await store.configVersion();
  const newest = (await store.listAudit({ limit: 1 })).items[0]?.id ?? 0;
  await check(work());
  assert.equal(await store.configVersion(), version, 'a refused change does not move the config version');
  assert.equal((await store.listAudit({ limit: 1 })).items[0]?.id ?? 0, newest, 'a refused change writes no audit record');
}
