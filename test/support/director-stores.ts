// The director's two stores for tests that run the same checks on each: one describe per store, with a SQLite file or a
// PostgreSQL database made for that describe alone before its own hooks run, and the stores it opened closed and the
// database dropped after its own hooks have run (node:test runs hooks in the order they are declared).
import { after, before, describe } from 'node:test';
import { join } from 'node:path';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { freshDatabase, type TestDatabase } from './postgres.js';
import { scratchDir } from './scratch.js';
import { startTestSluice, type TestSluice } from './sluice.js';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];
type StoreOptions = Parameters<typeof openDirectorStore>[1];

export class TestStorage {
  #database: TestDatabase | null = null;
  #sqlitePath: string | null = null;
  readonly #opened: DirectorStore[] = [];

  constructor(readonly kind: StoreKind) {}

  /** The PostgreSQL database made for this describe (null on SQLite), from the describe's first hook on. */
  get postgres(): TestDatabase | null {
    return this.#database;
  }

  /**
   * The storage setting of a store of this describe's own: the database's URL on PostgreSQL; on SQLite a file in a
   * scratch folder (the same file each time it is asked in one describe).
   */
  get storage(): string {
    if (this.#database !== null) return this.#database.url;
    this.#sqlitePath ??= join(scratchDir('sluice-store-'), 'sluice.db');
    return `sqlite:${this.#sqlitePath}`;
  }

  /** The SQLite file of `storage`; only on SQLite. */
  get sqlitePath(): string {
    if (this.kind !== 'sqlite') throw new Error('a PostgreSQL store has no file');
    return this.storage.slice('sqlite:'.length);
  }

  /** startTestSluice's override: the database's URL on PostgreSQL; nothing on SQLite, where the Sluice makes its own file. */
  get sluiceStorage(): { storage?: string } {
    return this.#database === null ? {} : { storage: this.#database.url };
  }

  /**
   * startTestSluice on this store (the database on PostgreSQL, the Sluice's own file on SQLite), its director API on a
   * port of its own with `token` as the bootstrap token; `overrides` and `options` as startTestSluice's.
   */
  startSluice(token: string, overrides: Record<string, unknown>, options?: Parameters<typeof startTestSluice>[1]): Promise<TestSluice> {
    return startTestSluice({ ...this.sluiceStorage, admin: { host: '127.0.0.1', port: 0, token }, ...overrides }, options);
  }

  /** The storage setting of what a Sluice started with `sluiceStorage` writes to: its SQLite file, or the database. */
  besides(sluice: TestSluice): string {
    return this.#database?.url ?? `sqlite:${sluice.dbPath}`;
  }

  /** A director store on `storage`, migrated, closed when the describe ends. */
  async open(options?: StoreOptions): Promise<DirectorStore> {
    return this.#closedAtEnd(await openDirectorStore(this.storage, options));
  }

  /** Another director store on what `sluice` (started with `sluiceStorage`) writes to, closed when the describe ends. */
  async openBesides(sluice: TestSluice, options?: StoreOptions): Promise<DirectorStore> {
    return this.#closedAtEnd(await openDirectorStore(this.besides(sluice), options));
  }

  #closedAtEnd(store: DirectorStore): DirectorStore {
    this.#opened.push(store);
    return store;
  }

  async make(): Promise<void> {
    if (this.kind === 'postgres') this.#database = await freshDatabase();
  }

  async release(): Promise<void> {
    try {
      for (const store of this.#opened.splice(0)) await store.close();
    } finally {
      await this.#database?.drop();
    }
  }
}

/**
 * One describe on `kind`'s store, titled `title`: `body` declares its hooks and tests with `db`.
 * For both stores: `for (const kind of STORE_KINDS) describeOnStore(kind, `... on ${kind}`, (db) => { ... })`.
 */
export function describeOnStore(kind: StoreKind, title: string, body: (db: TestStorage) => void): void {
  describe(title, () => {
    const db = new TestStorage(kind);
    before(() => db.make());
    body(db);
    after(() => db.release());
  });
}

/** `use` given a director store on the SQLite file `sluice` writes, as another director would open it; closed after. */
export async function withStoreOf<T>(sluice: TestSluice, use: (store: DirectorStore) => Promise<T>): Promise<T> {
  const store = await openDirectorStore(`sqlite:${sluice.dbPath}`);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
