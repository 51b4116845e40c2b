// The SQLite director store: the shared contract on a fresh file, and the upgrade of a file the ledger alone created.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { SQLITE } from '../../src/store/dialect.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../../src/store/migrations/index.js';
import { openDirectorStore } from '../../src/store/open.js';
import { statementCatalogue } from '../../src/store/sql/statements.js';
import { directorStoreContract } from './director-store.contract.js';
import { scratchDir } from '../support/scratch.js';

function rawQuery(path: string) {
  return async (sql: string) => {
    const db = new Database(path);
    try {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all() as Array<Record<string, unknown>>;
      statement.run();
      return [];
    } finally {
      db.close();
    }
  };
}

directorStoreContract('sqlite', async () => {
  const path = join(scratchDir('sluice-store-'), 'director.db');
  return { storage: `sqlite:${path}`, query: rawQuery(path), close: async () => {} };
});

describe('sqlite director store', () => {
  test('upgrades a file that has only the ledger migrations (1 and 2), keeping its rows', async () => {
    const path = join(scratchDir('sluice-store-'), 'old.db');
    // A file as the ledger-only releases left it: versions 1 and 2 applied, one ledger row.
    const old = new Database(path);
    old.exec(SCHEMA_MIGRATIONS_TABLE);
    for (const migration of MIGRATIONS.slice(0, 2)) {
      old.exec(migration.sql(SQLITE));
      old
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.version, migration.name, 'then');
    }
    old.exec(`INSERT INTO transactions (request_id, started_at, operation, api, stream, input_tokens, output_tokens, cached_input_tokens,
      cache_write_tokens, tokens_estimated, latency_ms, status, attempts) VALUES ('old', 1, 'chat', 'openai', 0, 1, 1, 0, 0, 0, 1, 200, 1)`);
    old.close();

    const store = await openDirectorStore(`sqlite:${path}`);
    try {
      assert.equal(await store.countTransactions(), 1);
      await store.createTeam('admin', { name: 'after-upgrade', owner: 'o' });
      assert.equal(await store.configVersion(), 1);
    } finally {
      await store.close();
    }
    const versions = await rawQuery(path)('SELECT version, applied_at FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      versions.map((row) => row.version),
      MIGRATIONS.map((migration) => migration.version),
    );
    assert.deepEqual(
      versions.slice(0, 2).map((row) => row.applied_at),
      ['then', 'then'],
      'versions 1 and 2 are not applied again',
    );
  });

  test('upgrades rule tables to ids never handed out twice, keeping rows, ids and the highest id the audit log names', async () => {
    const path = join(scratchDir('sluice-store-'), 'rules.db');
    // A file as version 14 left it: rules 1 to 3 kept, rule 4 of each kind made and deleted (known from the audit log only).
    const old = new Database(path);
    old.exec(SCHEMA_MIGRATIONS_TABLE);
    for (const migration of MIGRATIONS.filter((m) => m.version <= 14)) {
      old.exec(migration.sql(SQLITE));
      old
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.version, migration.name, 'then');
    }
    for (const id of [1, 2, 3]) {
      old.exec(
        `INSERT INTO identity_rules (id, field, match_kind, value, consumer, created_at) VALUES (${id}, 'sub', 'exact', 'svc-${id}', 'old-holder', 1)`,
      );
      old.exec(
        `INSERT INTO reconciliation_rules (id, match_user_agent, consumer, created_at) VALUES (${id}, 'agent-${id}/', 'old-holder', 1)`,
      );
    }
    for (const entityType of ['identity-rule', 'reconciliation-rule']) {
      old.exec(`INSERT INTO audit_log (at, actor, action, entity_type, entity_id) VALUES (1, 'admin', 'create', '${entityType}', '4')`);
      old.exec(`INSERT INTO audit_log (at, actor, action, entity_type, entity_id) VALUES (2, 'admin', 'delete', '${entityType}', '4')`);
    }
    old.close();

    const store = await openDirectorStore(`sqlite:${path}`, { discovery: DISCOVERY_POLICY });
    try {
      assert.deepEqual(
        (await store.listIdentityRules()).map((rule) => [rule.id, rule.value, rule.consumer]),
        [1, 2, 3].map((id) => [id, `svc-${id}`, 'old-holder']),
      );
      assert.deepEqual(
        (await store.listReconciliationRules()).map((rule) => [rule.id, rule.match.userAgent]),
        [1, 2, 3].map((id) => [id, `agent-${id}/`]),
      );
      await store.createConsumer('admin', { name: 'new-holder' });
      const identityRule = await store.createIdentityRule('admin', {
        field: 'sub',
        match: 'exact',
        value: 'svc-new',
        consumer: 'new-holder',
      });
      const { rule: reconciliationRule } = await store.createReconciliationRule('admin', {
        match: { userAgent: 'agent-new/' },
        consumer: 'new-holder',
      });
      assert.deepEqual([identityRule.id, reconciliationRule.id], [5, 5], 'past the deleted rule 4 the audit log names');
      await store.deleteIdentityRule('admin', identityRule.id);
      await store.deleteReconciliationRule('admin', reconciliationRule.id);
      assert.equal(
        (await store.createIdentityRule('admin', { field: 'sub', match: 'exact', value: 'svc-6', consumer: 'new-holder' })).id,
        6,
      );
    } finally {
      await store.close();
    }
    const tables = await rawQuery(path)(
      "SELECT name, sql FROM sqlite_master WHERE name IN ('identity_rules', 'reconciliation_rules') OR name LIKE '%_rebuilt' ORDER BY name",
    );
    assert.deepEqual(
      tables.map((table) => [table.name, /AUTOINCREMENT/.test(String(table.sql))]),
      [
        ['identity_rules', true],
        ['reconciliation_rules', true],
      ],
    );
  });

  test('every table the catalogue deletes rows from, if keyed by a serial id, never hands a deleted id out again', async () => {
    const path = join(scratchDir('sluice-store-'), 'serial.db');
    await (await openDirectorStore(`sqlite:${path}`)).close();
    const tables = new Map(
      (await rawQuery(path)("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).map((row) => [String(row.name), String(row.sql)]),
    );
    const deletedFrom = new Set(
      [...statementCatalogue(SQLITE)].flatMap(([, sql]) => [...sql.matchAll(/DELETE FROM (\w+)/g)].map((match) => match[1]!)),
    );
    const serial = [...deletedFrom].filter((table) => /\bid INTEGER PRIMARY KEY\b/.test(tables.get(table) ?? ''));
    assert.deepEqual(
      serial.sort(),
      ['identity_rules', 'reconciliation_rules', 'transactions'],
      'the serial-keyed tables rows are deleted from',
    );
    // The ledger instead never has its newest row deleted (ledger.retention keeps the newest block: src/compliance/chain/
    // pruner.ts, test/compliance/chain-retention.test.ts), which is all SQLite needs to hand out no id twice; AUTOINCREMENT
    // would cost every ledger insert an update of sqlite_sequence.
    const newestRowKept = new Set(['transactions']);
    for (const table of serial) {
      if (!newestRowKept.has(table)) assert.match(tables.get(table)!, /\bid INTEGER PRIMARY KEY AUTOINCREMENT\b/, table);
    }
  });

  test('every statement of the catalogue compiles, those the driver prepares only on first use too', async () => {
    const path = join(scratchDir('sluice-store-'), 'catalogue.db');
    await (await openDirectorStore(`sqlite:${path}`)).close();
    const db = new Database(path);
    try {
      for (const [name, sql] of statementCatalogue(SQLITE)) assert.doesNotThrow(() => db.prepare(SQLITE.bind(sql)), name);
    } finally {
      db.close();
    }
  });

  test('names the file when it cannot be opened', async () => {
    const dir = scratchDir('sluice-store-');
    const notADirectory = join(dir, 'plain-file');
    writeFileSync(notADirectory, '');
    await assert.rejects(openDirectorStore(`sqlite:${notADirectory}/director.db`), (error: Error) => {
      assert.ok(error.message.startsWith(`cannot open the SQLite store at ${notADirectory}/director.db: `), error.message);
      return true;
    });
  });
});
