// What creating a team or a consumer takes: the admin API's request bodies, which `sluice apply` documents reuse.
import { z } from '@hono/zod-openapi';
import { labelsRecord, nameText, ownerText, TEXT_LIMITS } from '../config/limits.js';

export const teamInput = z.object({ name: nameText(), owner: ownerText() }).strict();

export const consumerInput = z
  .object({
    name: nameText().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"'),
    team: nameText().nullable().optional(),
    owner: ownerText().nullable().optional(),
    labels: labelsRecord().optional(),
    models: z.array(nameText()).max(TEXT_LIMITS.allowList).nullable().optional(),
  })
  .strict();
