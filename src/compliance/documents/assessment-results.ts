// The OSCAL assessment results: one result per assessment, with one observation per check (how it was made, when
// collected, until when it holds, its evidence counts) and one finding per control objective (satisfied or not, with its
// related observations). Rendered from the assessments the store keeps.
import type { AssessmentRecord, Finding, Observation } from '../assessment.js';
import { nameUuid, newUuid } from '../uuid.js';
import { metadata, nonEmpty, oscalTime, prop } from './oscal.js';

/** Sluice's checks stand in for an assessment plan; the document names them in its back matter. */
const PLAN_UUID = nameUuid('assessment-plan:sluice-continuous-checks');

export function observation(o: Observation) {
  return {
    uuid: o.uuid,
    title: o.title,
    description: o.summary,
    props: [
      prop('check', o.check),
      prop('outcome', o.satisfied ? 'satisfied' : 'not-satisfied'),
      ...Object.entries(o.counts).map(([name, value]) => prop(name, value)),
    ],
    methods: [o.method],
    types: ['control-objective'],
    'relevant-evidence': [{ description: o.evidence }],
    collected: oscalTime(o.collected),
    expires: oscalTime(o.expires),
    ...(o.problems.length === 0 ? {} : { remarks: o.problems.map((problem) => `- ${problem}`).join('\n') }),
  };
}

export function finding(f: Finding) {
  return {
    uuid: f.uuid,
    title: f.title,
    description: f.description,
    props: [prop('control-id', f.controlId)],
    target: {
      type: 'objective-id',
      'target-id': f.objectiveId,
      status: { state: f.satisfied ? 'satisfied' : 'not-satisfied' },
    },
    ...nonEmpty(
      'related-observations',
      f.observations.map((uuid) => ({ 'observation-uuid': uuid })),
    ),
  };
}

function result(record: AssessmentRecord) {
  const controls = [...new Set(record.findings.map((f) => f.controlId))];
  const failed = record.findings.filter((f) => !f.satisfied).length;
  return {
    uuid: record.uuid,
    title: `Sluice continuous assessment ${oscalTime(record.startedAt)}`,
    description:
      `${record.findings.length - failed} of ${record.findings.length} control objectives satisfied, from live state, the ledger ` +
      `and the audit log of ${oscalTime(record.period.from)} to ${oscalTime(record.period.to)} (${record.origin}, by ${record.actor}).`,
    start: oscalTime(record.startedAt),
    end: oscalTime(record.endedAt),
    props: [
      prop('origin', record.origin),
      prop('period-start', oscalTime(record.period.from)),
      prop('period-end', oscalTime(record.period.to)),
      ...record.chains
        .filter((chain) => chain.headHash !== null)
        .map((chain) => prop(`${chain.chain === 'transactions' ? 'ledger' : 'audit-log'}-chain-head`, `${chain.blocks}:${chain.headHash}`)),
    ],
    'reviewed-controls': { 'control-selections': [{ 'include-controls': controls.map((id) => ({ 'control-id': id })) }] },
    ...nonEmpty('observations', record.observations.map(observation)),
    ...nonEmpty('findings', record.findings.map(finding)),
  };
}

/** `records`: newest first; at least one. */
export function assessmentResults(records: readonly AssessmentRecord[], now: number) {
  return {
    'assessment-results': {
      uuid: newUuid(),
      metadata: metadata('Sluice: continuous assessment results', now),
      'import-ap': { href: `#${PLAN_UUID}`, remarks: "Sluice's built-in checks are the assessment plan; see the back matter." },
      results: records.map(result),
      'back-matter': {
        resources: [
          {
            uuid: PLAN_UUID,
            title: 'Sluice continuous checks',
            description:
              'Each observation names the check that made it (property check) and what it proves from which data (relevant evidence). The checks, and the objectives each assesses, are described in the Sluice documentation (docs/compliance.md).',
          },
        ],
      },
    },
  };
}
