// What a Claude model takes that older ones do not, read from its id, for the request translations to Anthropic's
// Messages API (direct and on Vertex) and Bedrock's Converse; and a schema in the form Claude's strict tool use takes.
// https://platform.claude.com/docs/en/build-with-claude/structured-outputs and
// https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';

export interface ClaudeModelFeatures {
  /** `strict` on tools (Anthropic `tools[].strict`, Converse `toolSpec.strict`): constrained decoding of a tool's input. */
  strictTools: boolean;
  /** Whether it takes `temperature` and `top_p` together; the newer models refuse the pair ("use only one"). */
  temperatureWithTopP: boolean;
  /**
   * How it is asked to think: 'budget' (`thinking: {type: "enabled", budget_tokens}`: Claude 3.7 Sonnet, 4, 4.1, 4.5),
   * 'adaptive' (`thinking: {type: "adaptive"}` with `output_config.effort`: Claude 4.6 and later, which deprecate or
   * refuse the budget form), or 'none' (a model that does not think: older Claude, another vendor's model).
   */
  thinking: 'none' | 'budget' | 'adaptive';
  /** The top effort level it takes beside high: `xhigh` (Claude 4.7 and later) or only `max` (Claude 4.6). */
  topEffort: 'xhigh' | 'max';
  /** Whether it takes sampling settings (temperature, top_p, top_k) at all: Claude 4.7 and later refuse them. */
  sampling: boolean;
}

/** claude-{family}-{major}[-{minor}], the naming from Claude 4 on; the minor is one or two digits, never a date. */
const CLAUDE_VERSION = /claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?![0-9])/;

/** What an older Claude, another vendor's model or a model named by an ARN Sluice cannot read is sent: all as before. */
const AS_BEFORE: ClaudeModelFeatures = {
  strictTools: false,
  temperatureWithTopP: true,
  thinking: 'none',
  topEffort: 'max',
  sampling: true,
};

/** Claude 3.7 Sonnet, named the older way (claude-3-7-sonnet-20250219), the first Claude to think. */
const CLAUDE_3_7 = /claude-3-7-sonnet/;

/**
 * The features of the model `modelId` names (`claude-sonnet-4-5-20250929`, `us.anthropic.claude-haiku-4-5-20251001-v1:0`,
 * `claude-opus-4-1@20250805`) on a platform. Strict tools: Claude 4.5 and later on the Anthropic API and Bedrock; older
 * models refuse a strict tool with a 400, so they are sent none: a client's `strict` (which OpenAI's SDKs set on every zod
 * schema, and the Agents SDK on every tool) must not break a call that works without it. Bedrock's Claude Opus 4.7 takes
 * no structured outputs (its model card); Vertex turns them off for Claude until an organization policy
 * (constraints/vertexai.allowedPartnerModelFeatures) allows them, and refuses them until then. Claude Opus 4.1, and every
 * Claude from 4.5, refuse temperature and top_p together.
 */
export function claudeModelFeatures(modelId: string, platform: 'anthropic' | 'bedrock' | 'vertex'): ClaudeModelFeatures {
  const match = CLAUDE_VERSION.exec(modelId);
  if (match === null) return CLAUDE_3_7.test(modelId) ? { ...AS_BEFORE, thinking: 'budget' } : AS_BEFORE;
  const family = match[1];
  const major = Number(match[2]);
  const minor = match[3] === undefined ? 0 : Number(match[3]);
  const from45 = major > 4 || (major === 4 && minor >= 5);
  const structuredOutputs = from45 && platform !== 'vertex' && !(platform === 'bedrock' && family === 'opus' && major === 4 && minor === 7);
  const from46 = major > 4 || (major === 4 && minor >= 6);
  const from47 = major > 4 || (major === 4 && minor >= 7);
  return {
    strictTools: structuredOutputs,
    temperatureWithTopP: !(from45 || (family === 'opus' && major === 4 && minor >= 1)),
    thinking: from46 ? 'adaptive' : 'budget',
    topEffort: from47 ? 'xhigh' : 'max',
    sampling: !from47,
  };
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
