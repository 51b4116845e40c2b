// The store's typed errors, in one place: what an admin API handler maps to 404, 409 and 400.

/** The base of every error the director store raises on purpose; anything else is a bug or the database being down. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The store cannot be opened (PostgreSQL unreachable or refusing, a SQLite file that cannot be created or migrated): a
 * start stops on it with its message alone, which names the store and the cause (never a password).
 */
export class StoreOpenFailed extends StoreError {}

/** The entity a mutation names does not exist (an API's 404). */
export class StoreNotFound extends StoreError {
  readonly entityType: string;
  readonly entityId: string;

  constructor(entityType: string, entityId: string) {
    super(`${entityType} "${entityId}" does not exist`);
    this.entityType = entityType;
    this.entityId = entityId;
  }
}

/**
 * The change contradicts what is stored (an API's 409): `duplicate` when the name or id is taken, `reference` when it
 * names an entity that does not exist or would leave one dangling (foreign keys, translated from each driver's codes),
 * `state` when the entity is not in a state that allows the change (revoking a revoked key).
 */
export type ConflictReason = 'duplicate' | 'reference' | 'state';

export class StoreConflict extends StoreError {
  readonly reason: ConflictReason;

  constructor(reason: ConflictReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * The input breaks a rule the store keeps itself (an API's 400): a team-owner token without a team, a bad cursor.
 * `field` names the input at fault by its path in the request (`team`, a listing's `cursor`, `observations.0.at`), or
 * `(body)` when no one field is: the API's 400 names it, as it names every field its validation refuses.
 */
export class StoreInvalid extends StoreError {
  readonly field: string;

  constructor(message: string, options: ErrorOptions & { field: string }) {
    super(message, options);
    this.field = options.field;
  }
}
