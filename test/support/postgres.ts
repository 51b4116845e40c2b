// PostgreSQL for tests: the local server (trust auth), and a database made for one run and dropped after it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_SERVER = 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  /** `postgres://postgres@127.0.0.1:5432/sluice_test_<random>` */
  url: string;
  name: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  return { url: `${POSTGRES_SERVER}/${name}`, name, drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
