// Identity rules: client certificates, mesh identities and JWT claims mapped to consumers (src/identity/rules.ts applies them).
import type { IdentityField, IdentityMatch } from '../identity/rules.js';
import type { EpochMs } from './records.js';

export interface IdentityRuleInput {
  field: IdentityField;
  match: IdentityMatch;
  value: string;
  /** JWT fields only: the issuer the rule is for; any configured issuer when absent. */
  issuer?: string | null;
  consumer: string;
  note?: string | null;
}

export interface IdentityRule {
  id: number;
  field: IdentityField;
  match: IdentityMatch;
  value: string;
  issuer: string | null;
  consumer: string;
  note: string | null;
  createdAt: EpochMs;
}

export interface IdentityRuleStore {
  /** Audited. StoreInvalid for an unusable value; StoreConflict (`reference`) for a consumer that does not exist. */
  createIdentityRule(actor: string, rule: IdentityRuleInput): Promise<IdentityRule>;
  getIdentityRule(id: number): Promise<IdentityRule | null>;
  /** Oldest first. */
  listIdentityRules(): Promise<IdentityRule[]>;
  deleteIdentityRule(actor: string, id: number): Promise<void>;
}
