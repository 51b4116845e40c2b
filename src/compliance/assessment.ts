// One assessment: every check run over the live state, one observation each, and one finding per control objective
// the mapping assigns checks to (satisfied when all its checks are). Kept whole in the store; the OSCAL documents are
// rendered from it (documents/).
import type { AssessmentOrigin } from '../store/compliance-store.js';
import type { EpochMs } from '../store/director-store.js';
import type { ControlCatalog } from './catalog.js';
import type { AssessmentContext, Check, CheckMethod, CheckOutcome } from './check.js';
import type { ChainVerification } from './chain/verify.js';
import type { ControlMapping } from './control-mapping.js';
import { newUuid } from './uuid.js';

export interface Observation {
  uuid: string;
  check: string;
  title: string;
  method: CheckMethod;
  /** What the check proves and from which data. */
  evidence: string;
  collected: EpochMs;
  expires: EpochMs;
  satisfied: boolean;
  summary: string;
  counts: Record<string, number>;
  problems: string[];
}

export interface Finding {
  uuid: string;
  objectiveId: string;
  controlId: string;
  title: string;
  description: string;
  satisfied: boolean;
  /** The observations of the checks that assess this objective. */
  observations: string[];
}

export interface AssessmentRecord {
  uuid: string;
  startedAt: EpochMs;
  endedAt: EpochMs;
  period: { from: EpochMs; to: EpochMs };
  origin: AssessmentOrigin;
  actor: string;
  observations: Observation[];
  findings: Finding[];
  chains: Array<Omit<ChainVerification, 'broken'> & { broken: string | null }>;
}

/** Runs each check; a check that throws is an observation of the failure, not satisfied (the evidence could not be read). */
export async function observe(
  checks: readonly Check[],
  context: AssessmentContext,
  validForMs: number,
  clock: () => EpochMs,
): Promise<Observation[]> {
  const observations: Observation[] = [];
  for (const check of checks) {
    let result: CheckOutcome;
    try {
      result = await check.run(context);
    } catch (error) {
      const message = (error as Error).message;
      result = { satisfied: false, summary: `The check could not read its evidence: ${message}`, counts: {}, problems: [message] };
    }
    const collected = clock();
    observations.push({
      uuid: newUuid(),
      check: check.id,
      title: check.title,
      method: check.method,
      evidence: check.description,
      collected,
      expires: collected + validForMs,
      ...result,
    });
  }
  return observations;
}

/** One finding per objective the mapping names, in mapping order. */
export function findingsOf(observations: readonly Observation[], mapping: readonly ControlMapping[], catalog: ControlCatalog): Finding[] {
  const byCheck = new Map(observations.map((observation) => [observation.check, observation]));
  const objectives = new Map<string, { controlId: string; checks: string[] }>();
  for (const control of mapping) {
    for (const [check, ids] of Object.entries(control.checks)) {
      for (const id of ids) {
        const entry = objectives.get(id) ?? { controlId: control.control, checks: [] };
        entry.checks.push(check);
        objectives.set(id, entry);
      }
    }
  }
  const findings: Finding[] = [];
  for (const [objectiveId, { controlId, checks }] of objectives) {
    const related = checks.map((check) => byCheck.get(check)).filter((o): o is Observation => o !== undefined);
    const failing = related.filter((observation) => !observation.satisfied);
    const { control, objective } = catalog.objective(objectiveId);
    const satisfied = related.length > 0 && failing.length === 0;
    findings.push({
      uuid: newUuid(),
      objectiveId,
      controlId,
      title: `${control.label} ${objective.label} ${control.title}`,
      description: satisfied
        ? related.map((observation) => observation.summary).join(' ')
        : failing.length === 0
          ? 'No check observed this objective.'
          : failing.map((observation) => observation.summary).join(' '),
      satisfied,
      observations: related.map((observation) => observation.uuid),
    });
  }
  return findings;
}
