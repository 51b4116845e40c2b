// Identity rules in the store: which consumer a certificate, mesh identity or JWT stands for (src/identity/rules.ts).
// Audited changes like every admin change; a rule names its consumer without a foreign key, like reconciliation rules, and
// never holds the consumer's deletion up: it is deleted with the consumer, as the consumer's keys are.
import { ruleProblem } from '../../identity/rules.js';
import type { IdentityRule, IdentityRuleInput } from '../director-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../errors.js';
import type { Change, Reader } from './change.js';
import { getConsumer } from './directory.js';
import type { SqlValue } from './session.js';

const COLUMNS = 'id, field, match_kind, value, issuer, consumer, note, created_at';

export type IdentityRuleStatement = 'identityRuleInsert' | 'identityRuleGet' | 'identityRuleList' | 'identityRuleDelete';

export function identityRuleStatements(): Record<IdentityRuleStatement, string> {
  return {
    identityRuleInsert: `INSERT INTO identity_rules (field, match_kind, value, issuer, consumer, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      RETURNING ${COLUMNS}`,
    identityRuleGet: `SELECT ${COLUMNS} FROM identity_rules WHERE id = ?`,
    identityRuleList: `SELECT ${COLUMNS} FROM identity_rules ORDER BY id`,
    identityRuleDelete: 'DELETE FROM identity_rules WHERE id = ?',
  };
}

interface Row {
  id: number;
  field: IdentityRule['field'];
  match_kind: IdentityRule['match'];
  value: string;
  issuer: string | null;
  consumer: string;
  note: string | null;
  created_at: number;
}

const all = <R>(read: Reader, statement: IdentityRuleStatement, params: readonly SqlValue[]) => read.session.all<R>(statement, params);

function ruleOf(row: Row): IdentityRule {
  return {
    id: Number(row.id),
    field: row.field,
    match: row.match_kind,
    value: row.value,
    issuer: row.issuer,
    consumer: row.consumer,
    note: row.note,
    createdAt: Number(row.created_at),
  };
}

export async function getIdentityRule(read: Reader, id: number): Promise<IdentityRule | null> {
  if (!Number.isSafeInteger(id)) return null;
  const [row] = await all<Row>(read, 'identityRuleGet', [id]);
  return row === undefined ? null : ruleOf(row);
}

export async function listIdentityRules(read: Reader): Promise<IdentityRule[]> {
  return (await all<Row>(read, 'identityRuleList', [])).map(ruleOf);
}

export async function createIdentityRule(change: Change, input: IdentityRuleInput): Promise<IdentityRule> {
  const issuer = input.issuer ?? null;
  const problem = ruleProblem({ field: input.field, match: input.match, value: input.value, issuer });
  // Each problem starts with the field it is about (`value: ...`, `issuer: ...`).
  if (problem !== null) throw new StoreInvalid(problem, { field: problem.slice(0, problem.indexOf(':')) });
  const consumer = await getConsumer(change, input.consumer);
  if (consumer === null) throw new StoreConflict('reference', `consumer "${input.consumer}" does not exist`);
  const [row] = await all<Row>(change, 'identityRuleInsert', [
    input.field,
    input.match,
    input.value,
    issuer,
    consumer.name,
    input.note ?? null,
    change.now,
  ]);
  const created = ruleOf(row!);
  await change.audit('create', 'identity-rule', String(created.id), null, created);
  return created;
}

/**
 * A deleted consumer's rules go with it (each deletion audited): left behind, they would map its workload's certificate or
 * token to whichever consumer is made later under the same name, which never asked for that identity.
 */
export async function deleteRulesOfConsumer(change: Change, consumer: string): Promise<void> {
  for (const rule of await listIdentityRules(change)) {
    if (rule.consumer !== consumer) continue;
    await change.session.run('identityRuleDelete', [rule.id]);
    await change.audit('delete', 'identity-rule', String(rule.id), rule, null);
  }
}

export async function deleteIdentityRule(change: Change, id: number): Promise<void> {
  const before = await getIdentityRule(change, id);
  if (before === null) throw new StoreNotFound('identity-rule', String(id));
  await change.session.run('identityRuleDelete', [id]);
  await change.audit('delete', 'identity-rule', String(id), before, null);
}
