// The orders the ledger's and the audit log's listings can be read in: shared by the store that reads them, the admin API
// that takes `sort` and `order`, the CLI and the console.

/** The ledger's: the call's start, its cost, its latency, its input plus output tokens. */
export const TRANSACTION_SORTS = ['time', 'cost', 'latency', 'total_tokens'] as const;
export type TransactionSort = (typeof TRANSACTION_SORTS)[number];

/** The audit log's: when, who, what. */
export const AUDIT_SORTS = ['time', 'actor', 'action'] as const;
export type AuditSort = (typeof AUDIT_SORTS)[number];

export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
