// Identity rules stored before their values were checked where they are made (a SPIFFE id that breaks the SPIFFE ID
// standard, a subject not in RFC 4514 form) map no one. A gateway started on such a store says so once per rule, naming
// it, at start and never again at its reloads; the director API lists each with `valid: false` and why, so an operator
// finds and fixes them. The rows are written straight into a real SQLite store, as an older Sluice left them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { adminClient, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { capturedLogger, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-stored-rules-test-token-0123';
const STORED = [
  { field: 'spiffe', match: 'exact', value: 'spiffe://Acme.mil/ns/payments/sa/checkout', problem: /lowercase/ },
  { field: 'subject', match: 'exact', value: 'CN = checkout, O = Acme', problem: /RFC 4514/ },
  { field: 'spiffe', match: 'prefix', value: 'spiffe://acme.mil/ns//', problem: /prefix/ },
  { field: 'spiffe', match: 'exact', value: 'spiffe://acme.mil/ns/payments/sa/checkout', problem: null },
] as const;

describe('stored identity rules that can no longer match', () => {
  let sluice: TestSluice;
  let admin: AdminClient;
  const log = capturedLogger();
  const ids: number[] = [];

  /** The log lines warning of the stored rule with this id. */
  const warnings = (id: number) => log.lines().filter((line) => line.includes('maps no one') && line.includes(`"rule":${id},`));

  before(async () => {
    const first = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    await first.stop();
    const db = new Database(first.dbPath);
    const insert = db.prepare(
      'INSERT INTO identity_rules (field, match_kind, value, issuer, consumer, note, created_at) VALUES (?, ?, ?, NULL, ?, NULL, ?) RETURNING id',
    );
    for (const rule of STORED)
      ids.push((insert.get(rule.field, rule.match, rule.value, 'checkout-service', Date.now()) as { id: number }).id);
    db.close();
    sluice = await startTestSluice(
      { ...OFFLINE_CATALOG, storage: `sqlite:${first.dbPath}`, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } },
      { logger: log.logger },
    );
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice.stop();
  });

  test('the director API lists each with valid: false and why; a good rule with valid: true', async () => {
    const listed = await admin('GET', '/api/identity-rules');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    for (const [index, stored] of STORED.entries()) {
      const item = (listed.body.items as Array<{ id: number; valid: boolean; problem: string | null }>).find(
        (rule) => rule.id === ids[index],
      );
      assert.ok(item !== undefined, stored.value);
      const one = await admin('GET', `/api/identity-rules/${ids[index]}`);
      for (const shown of [item, one.body]) {
        if (stored.problem === null) {
          assert.equal(shown.valid, true, JSON.stringify(shown));
          assert.equal(shown.problem, null, JSON.stringify(shown));
        } else {
          assert.equal(shown.valid, false, JSON.stringify(shown));
          assert.match(shown.problem, /^value: /, JSON.stringify(shown));
          assert.match(shown.problem, stored.problem, JSON.stringify(shown));
        }
      }
    }
  });

  test('the gateway warns once per such rule at start, naming it, and not again at the next snapshots', async () => {
    for (const [index, stored] of STORED.entries()) {
      const lines = warnings(ids[index]!);
      if (stored.problem === null) {
        assert.equal(lines.length, 0, lines.join('\n'));
        continue;
      }
      assert.equal(lines.length, 1, `${stored.value}: ${lines.join('\n')}`);
      const line = JSON.parse(lines[0]!) as { level: number; consumer: string; value: string; msg: string };
      assert.equal(line.level, 40, 'a warning');
      assert.equal(line.consumer, 'checkout-service');
      assert.equal(line.value, stored.value);
      assert.match(line.msg, new RegExp(`identity rule ${ids[index]} `));
    }
    // A change through the API and a config reload each build a new snapshot: the rules are not warned of again.
    const made = await admin('POST', '/api/identity-rules', {
      field: 'subject',
      match: 'exact',
      value: 'CN=search,O=Acme',
      consumer: 'search-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await sluice.sluice.reload(sluice.config);
    for (const [index, stored] of STORED.entries()) assert.equal(warnings(ids[index]!).length, stored.problem === null ? 0 : 1);
    // The good rule still maps its workload (through the same rules the gateway serves).
    const rule = STORED.findIndex((stored) => stored.problem === null);
    const one = await admin('GET', `/api/identity-rules/${ids[rule]}`);
    assert.equal(one.body.consumer, 'checkout-service');
  });
});
