// Validates documents against the official NIST OSCAL 1.2.1 JSON schemas vendored in test/fixtures/oscal, with Ajv 8
// and ajv-formats (the schemas use date-time, uri, uri-reference and email).
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import formatsModule from 'ajv-formats';

const Ajv = AjvModule.default;
const addFormats = formatsModule.default;

const SCHEMAS = {
  'component-definition': 'oscal_component_schema.json',
  'assessment-results': 'oscal_assessment-results_schema.json',
  'plan-of-action-and-milestones': 'oscal_poam_schema.json',
} as const;

export type OscalModel = keyof typeof SCHEMAS;

const validators = new Map<OscalModel, ReturnType<InstanceType<typeof Ajv>['compile']>>();

/** The schema's errors for `document`, as readable lines; empty when it is valid. */
export function oscalErrors(model: OscalModel, document: unknown): string[] {
  let validate = validators.get(model);
  if (validate === undefined) {
    // The schemas use keywords Ajv's strict mode does not know (and rely on draft-07's defaults): strict off, formats on.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(new URL(`../../../test/fixtures/oscal/${SCHEMAS[model]}`, import.meta.url), 'utf8')) as object;
    validate = ajv.compile(schema);
    validators.set(model, validate);
  }
  if (validate(document)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
}
