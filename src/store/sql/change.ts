// One admin change in progress: its transaction, its time, who made it, and the audit records it writes alongside.
import type { AuditAction, AuditEntityType } from '../admin-store.js';
import type { Dialect } from '../dialect.js';
import { StoreConflict, StoreError, StoreInvalid } from '../errors.js';
import type { JsonColumns } from './rows.js';
import type { SqlSession } from './session.js';

/** What a read needs: a session and the JSON columns' codec. */
export interface Reader {
  readonly session: SqlSession;
  readonly json: JsonColumns;
}

export class Change implements Reader {
  readonly session: SqlSession;
  readonly json: JsonColumns;
  readonly now: number;
  private readonly actor: string;
  /** Audit records written so far: every write writes one, so none means the change changed nothing. */
  private audited = 0;

  constructor(session: SqlSession, now: number, actor: string, json: JsonColumns) {
    this.session = session;
    this.now = now;
    this.actor = actor;
    this.json = json;
  }

  /** `before` and `after` are the entity as the API shows it: never a hash or plaintext secret. */
  async audit(
    action: AuditAction,
    entityType: AuditEntityType,
    entityId: string,
    before: object | null,
    after: object | null,
  ): Promise<void> {
    await this.session.run('auditInsert', [
      this.now,
      this.actor,
      action,
      entityType,
      entityId,
      this.json.encode(before),
      this.json.encode(after),
    ]);
    this.audited++;
  }

  /** Whether anything was written (and audited) in this change. */
  get changedAnything(): boolean {
    return this.audited > 0;
  }
}

/** What a change is about, for the messages of the errors a driver's constraint codes are translated into. */
export interface Subject {
  type: AuditEntityType;
  id: string;
  /** Says what a broken reference means for this change, e.g. `team "payments" does not exist`. */
  reference?: string;
}

/** A driver's constraint error as a StoreConflict or StoreInvalid (the driver's error kept as its cause); anything else unchanged. */
export function translateError(dialect: Dialect, subject: Subject, error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const violation = dialect.violation(error);
  const options = { cause: error };
  if (violation === 'duplicate') return new StoreConflict('duplicate', `${subject.type} "${subject.id}" already exists`, options);
  if (violation === 'reference') {
    const detail = subject.reference ?? 'names an entity that does not exist, or is still named by another';
    return new StoreConflict('reference', `${subject.type} "${subject.id}": ${detail}`, options);
  }
  if (violation === 'invalid') return new StoreInvalid(`${subject.type} "${subject.id}": ${(error as Error).message}`, options);
  return error;
}
