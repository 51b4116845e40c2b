// Claude's strict tool use (constrained decoding of a tool's input to its schema): which Claude models take it, and the
// schema in the form it takes. Anthropic's Messages API (`tools[].strict`) and Bedrock's Converse (`toolSpec.strict`)
// share both. https://platform.claude.com/docs/en/build-with-claude/structured-outputs and
// https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';

/** claude-{family}-{major}[-{minor}], the naming from Claude 4 on; the minor is one or two digits, never a date. */
const CLAUDE_VERSION = /claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?![0-9])/;

/**
 * Whether a Claude model takes `strict` on its tools: Claude 4.5 and later (Opus, Sonnet, Haiku), on the Anthropic API and
 * on Bedrock, by the model id (`claude-sonnet-4-5-20250929`, `us.anthropic.claude-haiku-4-5-20251001-v1:0`). Older
 * models refuse a strict tool with a 400, so they are sent none: a client's `strict` (which OpenAI's SDKs set on every
 * zod schema, and the Agents SDK on every tool) must not break a call that works without it. Bedrock's Claude Opus 4.7
 * takes no structured outputs (its model card), nor does a model named by an ARN Sluice cannot read.
 */
export function claudeTakesStrict(modelId: string, platform: 'anthropic' | 'bedrock'): boolean {
  const match = CLAUDE_VERSION.exec(modelId);
  if (match === null) return false;
  const major = Number(match[2]);
  const minor = match[3] === undefined ? 0 : Number(match[3]);
  if (platform === 'bedrock' && match[1] === 'opus' && major === 4 && minor === 7) return false;
  return major > 4 || (major === 4 && minor >= 5);
}

/**
 * A client's schema as Claude's strict mode takes it: what it cannot enforce (minimum, maxLength, pattern, ...) moved into
 * the description, every object closed (additionalProperties false), as Anthropic's own SDK does for its strict tools.
 * Null for a schema that cannot be made strict (a node with no type): such a tool goes without strict, best effort.
 */
export function strictSchema(schema: Record<string, unknown>): Record<string, unknown> | null {
  try {
    return transformJSONSchema(schema);
  } catch {
    return null;
  }
}
