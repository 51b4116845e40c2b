// The PostgreSQL director store: the shared contract on a database made for this run, and errors that keep the password out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { POSTGRES } from '../../src/store/dialect.js';
import { openDirectorStore } from '../../src/store/open.js';
import { statementCatalogue } from '../../src/store/sql/statements.js';
import { freshDatabase, postgresUrl } from '../support/postgres.js';
import { directorStoreContract } from './director-store.contract.js';

directorStoreContract('postgres', async () => {
  const database = await freshDatabase();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    storage: database.url,
    query: async (sql) => (await client.query(sql)).rows as Array<Record<string, unknown>>,
    close: async () => {
      await client.end();
      await database.drop();
    },
  };
});

describe('postgres director store', () => {
  test('every statement of the catalogue is accepted by PostgreSQL, parameter types and all', async () => {
    const database = await freshDatabase();
    try {
      await (await openDirectorStore(database.url)).close();
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        for (const [name, sql] of statementCatalogue(POSTGRES)) {
          await client.query(`PREPARE checked AS ${POSTGRES.bind(sql)}`).catch((error: Error) => assert.fail(`${name}: ${error.message}`));
          await client.query('DEALLOCATE checked');
        }
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });

  test('a server it cannot reach fails the open naming host and database, never the password', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(openDirectorStore(`postgres://sluice:Sup3r-s3cret@127.0.0.1:${port}/director`), (error: Error) => {
      assert.match(error.message, new RegExp(`postgres://sluice@127\\.0\\.0\\.1:${port}/director`));
      assert.ok(!error.message.includes('Sup3r-s3cret'), error.message);
      return true;
    });
  });

  test('a database that does not exist is named in the error', async () => {
    await assert.rejects(openDirectorStore(postgresUrl('sluice_no_such_database')), /sluice_no_such_database/);
  });
});
