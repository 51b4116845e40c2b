// sluice.yaml's `guardrails`: detectors run on prompts (and on non-streamed answers) before the provider or the client
// sees them, each in monitor, block or mask mode (docs/agents.md).
import { z } from 'zod';
import { nameText, TEXT_LIMITS } from './limits.js';

/** The PII detectors of @dawn-analytics/redact-pii's built-in set that a guardrail may name. */
export const PII_KINDS = [
  'emailAddress',
  'phoneNumber',
  'creditCardNumber',
  'usSocialSecurityNumber',
  'ipAddress',
  'streetAddress',
  'credentials',
] as const;

const pattern = z
  .string()
  .min(1)
  .max(TEXT_LIMITS.setting)
  .refine((source) => {
    try {
      new RegExp(source, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'a regular expression (JavaScript syntax)');

export const guardrailSchema = z
  .object({
    name: nameText(),
    /** monitor: recorded as a violation; block: refused with 400; mask: the match replaced before it is sent on. */
    mode: z.enum(['monitor', 'block', 'mask']),
    /** What is checked: the prompt (input), the non-streamed answer (output), or both. */
    on: z.enum(['input', 'output', 'both']).default('input'),
    pii: z.array(z.enum(PII_KINDS)).max(PII_KINDS.length).default([]),
    /** Regular expressions, matched case-insensitively. */
    patterns: z.array(pattern).max(100).default([]),
    /** Only these consumers' calls; every consumer when absent. */
    consumers: z.array(nameText()).max(TEXT_LIMITS.allowList).optional(),
    /** Only calls to these models; every model when absent. */
    models: z.array(nameText()).max(TEXT_LIMITS.allowList).optional(),
  })
  .strict()
  .refine((guardrail) => guardrail.pii.length > 0 || guardrail.patterns.length > 0, 'name at least one pii detector or pattern');

export type GuardrailConfig = z.infer<typeof guardrailSchema>;
