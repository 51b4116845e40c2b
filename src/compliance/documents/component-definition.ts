// The OSCAL component definition: Sluice as a software component and the SP 800-53 controls it implements, each claimed
// only when the running configuration implements it (control-mapping.ts' claimedWhen). UUIDs are name-based, so the
// component, its control implementation and each implemented requirement keep theirs across documents.
import type { ControlCatalog } from '../catalog.js';
import { CLAIM_CONDITIONS, type ClaimFacts, type ControlMapping } from '../control-mapping.js';
import { nameUuid, newUuid } from '../uuid.js';
import { COMPONENT_UUID, metadata, prop, sluiceVersion } from './oscal.js';

export function componentDefinition(facts: ClaimFacts, mapping: readonly ControlMapping[], catalog: ControlCatalog, now: number) {
  const claimed = mapping.filter((control) => CLAIM_CONDITIONS[control.claimedWhen](facts));
  const notClaimed = mapping.filter((control) => !claimed.includes(control));
  const source = catalog.source.href;
  return {
    'component-definition': {
      // A new document each time it is generated; what it describes keeps its UUIDs.
      uuid: newUuid(),
      metadata: metadata(
        'Sluice: NIST SP 800-53 rev5 controls implemented by this deployment',
        now,
        notClaimed.length === 0
          ? undefined
          : `Not claimed, as this deployment's configuration does not implement them: ${notClaimed.map((c) => `${catalog.control(c.control).label} (${c.claimedWhen})`).join(', ')}.`,
      ),
      components: [
        {
          uuid: COMPONENT_UUID,
          type: 'software',
          title: 'Sluice',
          description:
            'A gateway and governance director for AI inference traffic: authenticates every call with a consumer key, enforces sanctioned models, budgets and rate limits, records every call in a ledger and every admin change in an audit log, and assesses its own controls continuously.',
          purpose: 'Govern and account for the AI inference traffic of an organisation.',
          props: [prop('version', sluiceVersion())],
          'control-implementations': [
            {
              uuid: nameUuid(`control-implementation:${catalog.source.uuid}`),
              source,
              description: `The controls of ${catalog.source.title} (${catalog.source.version}) that Sluice implements as configured.`,
              'implemented-requirements': claimed.map((control) => ({
                uuid: nameUuid(`implemented-requirement:${control.control}`),
                'control-id': control.control,
                description: control.implementation,
                props: [
                  prop('claimed-when', control.claimedWhen),
                  ...Object.keys(control.checks).map((check) => prop('assessed-by', check)),
                ],
              })),
            },
          ],
        },
      ],
    },
  };
}
