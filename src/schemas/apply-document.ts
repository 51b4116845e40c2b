// What `sluice apply` declares and POST /api/apply takes: teams, models, consumers, budgets, budget templates, rate limits
// and resource statuses, each validated with the schema its own admin route (or sluice.yaml) uses. The CLI checks a file
// with it before sending anything; the director checks the request with it again.
import { z } from 'zod';
import { budgetSchema, budgetTemplateSchema, governanceFields, rateLimitSchema } from '../config/governance-schema.js';
import { modelSchema } from '../config/schema.js';
import { consumerInput, teamInput } from './directory.js';

/** The lists of named entities, in the order apply makes them: what a later one names is made first. */
export const NAMED_KINDS = ['teams', 'models', 'consumers', 'budgets', 'budgetTemplates', 'rateLimits'] as const;

const documentShape = {
  teams: z.array(teamInput).default([]),
  models: z.array(modelSchema).default([]),
  consumers: z.array(consumerInput).default([]),
  budgets: z.array(budgetSchema).default([]),
  budgetTemplates: z.array(budgetTemplateSchema).default([]),
  rateLimits: z.array(rateLimitSchema).default([]),
  resources: governanceFields.resources,
};

/** A name given twice in one list: the second would silently replace the first. */
function noNameTwice(document: Record<(typeof NAMED_KINDS)[number], Array<{ name: string }>>, context: z.RefinementCtx): void {
  for (const key of NAMED_KINDS) {
    const seen = new Set<string>();
    document[key].forEach(({ name }, i) => {
      if (seen.has(name)) context.addIssue({ code: 'custom', path: [key, i, 'name'], message: `"${name}" is declared twice` });
      seen.add(name);
    });
  }
}

export const applyDocumentSchema = z.object(documentShape).strict().superRefine(noNameTwice);

/** The request body of POST /api/apply: the document's fields, and whether to roll back after checking (a dry run). */
export const applyRequestSchema = z
  .object({ ...documentShape, dryRun: z.boolean().default(false) })
  .strict()
  .superRefine(noNameTwice);

export type ApplyDocument = z.infer<typeof applyDocumentSchema>;

export type ApplyAction = 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';

/** What apply did (or would do) to one entity of the document. */
export interface ApplyOutcome {
  kind: string;
  name: string;
  /** Where the entity is in the document, e.g. `budgets.0`. */
  path: string;
  action: ApplyAction;
  /** The fields that differ (updates only). */
  changed: string[];
}
