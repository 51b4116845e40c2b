// The OSCAL plan of action and milestones: an item per spell of a not-satisfied objective, open from the assessment
// that first found it until one satisfies it, then kept as closed. An open item relates to the latest assessment's
// finding and observations, which the document carries.
import type { PoamItem } from '../../store/compliance-store.js';
import type { AssessmentRecord } from '../assessment.js';
import { finding, observation } from './assessment-results.js';
import { COMPONENT_UUID, metadata, nonEmpty, oscalTime, prop } from './oscal.js';
import { newUuid } from '../uuid.js';

/** `items`: at least one (OSCAL requires it). `latest`: the latest assessment, whose findings open items relate to. */
export function planOfActionAndMilestones(items: readonly PoamItem[], latest: AssessmentRecord | null, now: number) {
  const findings = new Map((latest?.findings ?? []).map((f) => [f.objectiveId, f]));
  const related = items
    .filter((item) => item.closedAt === null)
    .map((item) => findings.get(item.objectiveId))
    .filter((f): f is NonNullable<typeof f> => f !== undefined && !f.satisfied);
  const observationUuids = new Set(related.flatMap((f) => f.observations));
  const observations = (latest?.observations ?? []).filter((o) => observationUuids.has(o.uuid));
  return {
    'plan-of-action-and-milestones': {
      uuid: newUuid(),
      metadata: metadata('Sluice: plan of action and milestones', now),
      'system-id': { 'identifier-type': 'https://ietf.org/rfc/rfc4122', id: COMPONENT_UUID },
      ...nonEmpty('observations', observations.map(observation)),
      ...nonEmpty('findings', related.map(finding)),
      'poam-items': items.map((item) => {
        const current = item.closedAt === null ? findings.get(item.objectiveId) : undefined;
        return {
          uuid: item.uuid,
          title: item.title,
          description: item.description,
          props: [
            prop('status', item.closedAt === null ? 'open' : 'closed'),
            prop('objective-id', item.objectiveId),
            prop('control-id', item.controlId),
            prop('first-seen', oscalTime(item.firstSeenAt)),
            prop('first-assessment', item.firstAssessment),
            prop('last-seen', oscalTime(item.lastSeenAt)),
            prop('last-assessment', item.lastAssessment),
            ...(item.closedAt === null
              ? []
              : [prop('closed', oscalTime(item.closedAt)), prop('closed-by-assessment', item.closedByAssessment ?? '')]),
          ],
          ...(current === undefined || current.satisfied
            ? {}
            : {
                'related-findings': [{ 'finding-uuid': current.uuid }],
                ...nonEmpty(
                  'related-observations',
                  current.observations.map((uuid) => ({ 'observation-uuid': uuid })),
                ),
              }),
        };
      }),
    },
  };
}
