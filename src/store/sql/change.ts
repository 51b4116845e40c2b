// One admin change in progress: its transaction, its time, who made it, and the audit records it writes alongside.
import { isDeepStrictEqual } from 'node:util';
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
  /** Set by an update that found the entity already as asked: the change is rolled back, no version bumped. */
  private idle = false;

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

  /**
   * An update that changes nothing: nothing is written or audited, and `before` is answered. An idempotent PATCH (a script
   * setting what is already set) must not fill the audit log or make every gateway reload.
   */
  leftAsItWas<T>(before: T): T {
    this.idle = true;
    return before;
  }

  /** Whether the change wrote nothing because its update was already in place (see leftAsItWas). */
  get leftEverythingAsItWas(): boolean {
    return this.idle && this.audited === 0;
  }
}

/** Whether an update leaves an entity as it was, its updatedAt (the time of the update itself) aside. */
export function unchanged(before: object, after: object): boolean {
  const { updatedAt: _before, ...was } = before as { updatedAt?: unknown };
  const { updatedAt: _after, ...is } = after as { updatedAt?: unknown };
  return isDeepStrictEqual(was, is);
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
  if (violation === 'invalid')
    return new StoreInvalid(`${subject.type} "${subject.id}": ${(error as Error).message}`, { ...options, field: '(body)' });
  return error;
}
