// What the audit log records changes of, and as which actions: shared by the store that writes it, the admin API that lists it and the CLI.

export const AUDIT_ENTITY_TYPES = [
  'team',
  'consumer',
  'consumer-key',
  'admin-token',
  'budget',
  'budget-template',
  'rate-limit',
  'resource',
  'webhook',
  'provider',
  'model',
  'discovered-consumer',
  'reconciliation-rule',
  'identity-rule',
  /** ledger.retention deleting the ledger's rows of sealed blocks (actor `retention`). */
  'ledger',
] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];

/** What a change was. */
export const AUDIT_ACTIONS = ['create', 'update', 'delete', 'revoke', 'rotate'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
