// What a compliance check is: a named computation over live data (the store, the ledger, the chains, the running
// config) whose outcome says whether the objectives mapped to it (control-mapping.ts) are satisfied, with its evidence.
import type { ComplianceConfig } from '../config/compliance-schema.js';
import type { ExpiredKeyPresentations } from '../policy/consumers.js';
import type { SluiceConfig } from '../config/schema.js';
import type { AssessmentSummary, LedgerEvidence } from '../store/compliance-store.js';
import type { DirectorStore, EpochMs } from '../store/director-store.js';
import type { ChainVerification } from './chain/verify.js';

/** What this process's gateway counted and its ledger writer did with the records, since the process started. */
export interface LedgerAccounting {
  /** When counting began (the process's start). */
  readonly since: EpochMs;
  /** Resolves once every record appended so far is committed (or failed for good). */
  settle(): Promise<void>;
  /** Calls the gateway finished and counted in its metrics. */
  counted(): number;
  /** Ledger rows its writer committed. */
  committed(): number;
  /** Records waiting in memory for the next batch. */
  buffered(): number;
}

export interface AssessmentContext {
  /** When the assessment started. */
  now: EpochMs;
  /** The traffic examined: [from, to). */
  period: { from: EpochMs; to: EpochMs };
  settings: ComplianceConfig;
  /** sluice.yaml as running now (listeners, storage, resource policy, environment-independent settings). */
  config: SluiceConfig;
  store: DirectorStore;
  /** The reads over the ledger's rows: on the chains' thread where the database has a connection for it (chain/thread.ts). */
  evidence: LedgerEvidence;
  /** Null where this process runs no gateway. */
  ledger: LedgerAccounting | null;
  /** Expired keys this process's gateway was presented (and refused) since it started, by key id. */
  expiredKeyPresentations: ReadonlyMap<string, ExpiredKeyPresentations>;
  /** Both chains verified (computed once per assessment, shared by the checks that read it). */
  chains(): Promise<ChainVerification[]>;
  /** The assessment before this one, if any. */
  previous: AssessmentSummary | null;
  /** process.env, for settings Node reads from it (TLS verification). */
  env: NodeJS.ProcessEnv;
}

export type CheckMethod = 'TEST' | 'EXAMINE';

export interface CheckOutcome {
  satisfied: boolean;
  /** One sentence: what was found. */
  summary: string;
  /** The evidence's figures, by name (camelCase). */
  counts: Record<string, number>;
  /** Each thing found wrong, named (a consumer, a row, a provider); empty when satisfied. At most PROBLEMS_SHOWN. */
  problems: string[];
}

export interface Check {
  /** kebab-case, stable: observations, findings and the docs name checks by it. */
  id: string;
  title: string;
  /** What it proves and from which data. */
  description: string;
  method: CheckMethod;
  run(context: AssessmentContext): Promise<CheckOutcome>;
}

/** Problems named per observation, the rest counted: an observation stays readable when thousands of rows are wrong. */
export const PROBLEMS_SHOWN = 20;

/** An outcome from a list of problems: satisfied when there are none. */
export function outcome(
  problems: readonly string[],
  satisfiedSummary: string,
  problemSummary: string,
  counts: Record<string, number>,
): CheckOutcome {
  return {
    satisfied: problems.length === 0,
    summary: problems.length === 0 ? satisfiedSummary : problemSummary,
    counts,
    problems: problems.slice(0, PROBLEMS_SHOWN),
  };
}

const DAY_MS = 86_400_000;

export function days(n: number): number {
  return n * DAY_MS;
}

export function iso(epochMs: EpochMs): string {
  return new Date(epochMs).toISOString();
}
