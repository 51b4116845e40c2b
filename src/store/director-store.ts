// The store as the director opens it: every concern's interface over one database (SQLite or PostgreSQL). Callers depend on
// the part they use: admin-store.ts (directory, governance, providers), ledger-store.ts, analytics-store.ts,
// reconciliation-store.ts, identity-rule-store.ts and compliance-store.ts.
import type { AdminStore } from './admin-store.js';
import type { AnalyticsStore } from './analytics-store.js';
import type { ComplianceStore } from './compliance-store.js';
import type { LedgerStore } from './ledger-store.js';
import type { IdentityRuleStore } from './identity-rule-store.js';
import type { EpochMs } from './records.js';
import type { DiscoveryPolicy, ReconciliationStore } from './reconciliation-store.js';

export { StoreConflict, StoreError, StoreInvalid, StoreNotFound, type ConflictReason } from './errors.js';
export * from './admin-store.js';
export * from './analytics-store.js';
export * from './identity-rule-store.js';
export * from './records.js';
export * from './reconciliation-store.js';
export type { LedgerStore } from './ledger-store.js';

/**
 * Everything the director owns. Lookups (`get*`) resolve to null for what does not exist; mutations of what does not
 * exist reject with StoreNotFound; taken names and broken references reject with StoreConflict.
 */
export interface DirectorStore extends AdminStore, LedgerStore, AnalyticsStore, ReconciliationStore, IdentityRuleStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Assessments, POA&M items and the hash chains, on the same database (src/store/compliance-store.ts). */
  readonly compliance: ComplianceStore;

  close(): Promise<void>;
}

export interface DirectorStoreOptions {
  /** The time changes are stamped with and keys expire by; tests move one by hand. */
  clock?: () => EpochMs;
  /** Told about failures no caller is waiting for (an idle PostgreSQL connection dropping). */
  onBackgroundError?: (error: Error) => void;
  /**
   * What intake and reconciliation rules apply (src/policy/discovery.ts' DISCOVERY_POLICY). Without it the
   * ReconciliationStore methods that record observations or create rules reject.
   */
  discovery?: DiscoveryPolicy;
}
