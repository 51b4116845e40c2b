// The statement driver on PostgreSQL (pg Pool): parametrized, named statements; each transaction on one client.
import type { Pool, PoolClient } from 'pg';
import { POSTGRES } from './dialect.js';
import { migrate } from './migrations/migrate.js';
import { describePostgresUrl } from '../config/storage.js';
import { StoreOpenFailed } from './errors.js';
import { withoutPassword } from './postgres-url.js';
import type { MigrationTarget, SqlConnection, SqlSession, SqlValue, StatementDriver } from './sql/session.js';
import { isAnalyticsRead, statementCatalogue, type StatementName } from './sql/statements.js';

export interface PostgresPoolOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /** How long a statement may go unanswered before it fails (default: no limit), so a silent network cannot hang a caller. */
  queryTimeoutMs?: number;
  /** Told about failures no caller is waiting for (an idle PostgreSQL connection dropping). */
  onBackgroundError?: (error: Error) => void;
}

/** How long to wait for a connection before failing, rather than hanging on an unreachable host. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The statement driver every store part on this database runs on: a pool, the migrations applied. */
export async function openPostgresDriver(url: string, options: PostgresPoolOptions = {}): Promise<StatementDriver> {
  // pg is loaded by the first PostgreSQL store, not with the store's modules: on SQLite (the ledger's writer thread
  // included, a V8 isolate of its own) it would only take memory (some 10 MB of RSS per isolate).
  const pool = createPool(await import('pg'), url, options);
  try {
    await migrate(new PostgresMigrations(pool));
  } catch (error) {
    await pool.end().catch(() => undefined);
    const message = withoutPassword((error as Error).message, url);
    throw new StoreOpenFailed(`cannot open the PostgreSQL store at ${describePostgresUrl(url)}: ${message}`);
  }
  return new PostgresDriver(pool);
}

function createPool(pg: typeof import('pg'), url: string, options: PostgresPoolOptions): Pool {
  // BIGINT columns hold epoch milliseconds, ids, counts and micro-USD: all far inside Number's exact range, so they are
  // read as numbers (pg's default is strings). Set on this pool only, not pg's global parsers.
  const types = new pg.TypeOverrides();
  types.setTypeParser(20, (value: string) => Number(value));
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types,
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
  });
  // An idle client losing its connection is reported here; unhandled, it would end the process.
  pool.on('error', (error) => options.onBackgroundError?.(new Error(withoutPassword(error.message, url))));
  return pool;
}

/** Runs `work` between BEGIN and COMMIT on one client; a client whose ROLLBACK failed is discarded, not reused. */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client whose connection breaks between two statements emits 'error', which the pool no longer listens
  // for: unheard, it would end the process. The next statement fails with it anyway, and the client is then discarded.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

class PostgresMigrations implements MigrationTarget {
  readonly dialect = POSTGRES;
  private readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) =>
      work({
        // Without parameters pg uses the simple protocol, which takes several statements at once.
        exec: async (sql) => {
          await client.query(sql);
        },
        query: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
          (await client.query(POSTGRES.bind(sql), [...params])).rows as Row[],
      }),
    );
  }
}

/**
 * The catalogue as named statements: pg prepares each once per connection and reuses it after. The analytics' grouped
 * reads go unnamed, so PostgreSQL plans each call for its own period and filters (see isAnalyticsRead).
 */
class PostgresDriver implements StatementDriver {
  readonly dialect = POSTGRES;
  private readonly pool: Pool;
  private readonly queries: Map<StatementName, { name?: string; text: string }>;
  private readonly poolSession: SqlSession;
  private ended: Promise<void> | null;

  constructor(pool: Pool) {
    this.pool = pool;
    this.queries = new Map(
      [...statementCatalogue(POSTGRES)].map(([name, sql]) => [
        name,
        isAnalyticsRead(name) ? { text: POSTGRES.bind(sql) } : { name: `sluice.${name}`, text: POSTGRES.bind(sql) },
      ]),
    );
    this.poolSession = this.session(pool);
    this.ended = null;
  }

  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this.poolSession);
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => work(this.session(client)));
  }

  close(): Promise<void> {
    this.ended ??= this.pool.end();
    return this.ended;
  }

  private session(queryable: Pool | PoolClient): SqlSession {
    return {
      all: async <Row>(name: StatementName, params: readonly SqlValue[]) =>
        (await queryable.query({ ...this.query(name), values: [...params] })).rows as Row[],
      table: async (name, params) => {
        const result = await queryable.query<unknown[]>({ ...this.query(name), values: [...params], rowMode: 'array' });
        return { columns: result.fields.map((field) => field.name), rows: result.rows };
      },
      run: async (name, params) => (await queryable.query({ ...this.query(name), values: [...params] })).rowCount ?? 0,
    };
  }

  private query(name: StatementName): { name?: string; text: string } {
    const query = this.queries.get(name);
    if (query === undefined) throw new Error(`no statement named ${name}`);
    return query;
  }
}
