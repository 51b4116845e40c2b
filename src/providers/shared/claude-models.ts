// What a Claude model takes that older ones do not, read from its id, for the request translations to Anthropic's
// Messages API (direct and on Vertex) and Bedrock's Converse; and a schema in the form Claude's strict tool use takes.
// https://platform.claude.com/docs/en/build-with-claude/structured-outputs and
// https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';
import { SluiceError } from '../../errors.js';

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
  /**
   * Whether it continues a conversation that ends with an assistant turn (a prefill): Claude 4.6 and later refuse one
   * ("This model does not support assistant message prefill. The conversation must end with a user message.").
   */
  prefill: boolean;
  /**
   * Whether Converse takes Claude's own `tool_choice` in additionalModelRequestFields, the one place for
   * `disable_parallel_tool_use` (Converse's toolChoice has no such field): Claude 4.5 and later on Bedrock. Older Claude
   * refused the key there ("extraneous key [disable_parallel_tool_use] is not permitted").
   */
  converseParallelToolChoice: boolean;
  /**
   * The most output tokens it gives (claudeMaxOutputTokens): what a client that names no max_tokens is given, as OpenAI
   * gives its models' whole output. Null for a model Sluice cannot place.
   */
  maxOutputTokens: number | null;
}

/** claude-{family}-{major}[-{minor}], the naming from Claude 4 on; the minor is one or two digits, never a date. */
const CLAUDE_VERSION = /claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?![0-9])/;

/** What an older Claude, another vendor's model or a model named by an ARN Sluice cannot read is sent: all as before. */
const AS_BEFORE: Omit<ClaudeModelFeatures, 'maxOutputTokens'> = {
  strictTools: false,
  temperatureWithTopP: true,
  thinking: 'none',
  topEffort: 'max',
  sampling: true,
  prefill: true,
  converseParallelToolChoice: false,
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
  const maxOutputTokens = claudeMaxOutputTokens(modelId, platform);
  const match = CLAUDE_VERSION.exec(modelId);
  if (match === null) return { ...(CLAUDE_3_7.test(modelId) ? { ...AS_BEFORE, thinking: 'budget' as const } : AS_BEFORE), maxOutputTokens };
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
    prefill: !from46,
    converseParallelToolChoice: from45 && platform === 'bedrock',
    maxOutputTokens,
  };
}

/**
 * Why a conversation ending with an assistant turn cannot go to `modelId`, a Claude that refuses prefills: refused before
 * it is sent, naming `messages` in the client's terms (OpenAI's answer a final assistant message with a new one, so
 * nothing the client sent can stand in for it), and another of the model's targets may take the call.
 */
export function prefillRefusal(modelId: string): SluiceError {
  return new SluiceError(
    'unsupported_by_provider',
    `messages: ${modelId} takes no conversation that ends with an assistant message (a prefill, which Claude 4.6 and later refuse); end it with a user message.`,
    { param: 'messages' },
  );
}

/** Claude 3's naming: claude-3[-{minor}]-{family}[-{date}] (`claude-3-5-haiku-20241022`, `claude-3-7-sonnet-latest`). */
const CLAUDE_3 = /claude-3(?:-(\d))?-(?:opus|sonnet|haiku)(?:-(\d{8}))?/;
/** From Claude 4 on: claude-{family}-{major}[-{minor}], for any family (Anthropic names new ones). */
const CLAUDE_NAMED = /claude-([a-z]+)-(\d+)(?:-(\d{1,2}))?(?![0-9])/;

/**
 * The most output tokens the model `modelId` names gives, from Anthropic's model pages
 * (https://platform.claude.com/docs/en/about-claude/models/overview and each model's page): Claude 3 Haiku and Opus
 * 4,096; 3.5 Haiku and Sonnet 8,192 (Claude 3.5 Sonnet of June 2024 4,096 on Bedrock, which refuses more); 3.7 Sonnet,
 * Sonnet 4 and 4.5, Haiku 4.5, Opus 4.5 64,000; Opus 4 and 4.1 32,000; Opus and Sonnet from 4.6, and every Claude 5,
 * 128,000 (a later Haiku: 64,000, the most any Haiku gives). Null for a model Sluice cannot place (another vendor's, an
 * inference profile ARN, an older Claude, a name of the operator's own): a provider that requires a figure sends
 * UNPLACED_CLAUDE_MAX_OUTPUT, which every Claude takes; a limit above the model's is a 400, so no guess goes higher.
 */
export function claudeMaxOutputTokens(modelId: string, platform: 'anthropic' | 'bedrock' | 'vertex'): number | null {
  const three = CLAUDE_3.exec(modelId);
  if (three !== null) {
    const minor = three[1] === undefined ? 0 : Number(three[1]);
    if (minor >= 7) return 64_000;
    if (minor === 5) return platform === 'bedrock' && three[2] === '20240620' ? 4_096 : 8_192;
    return 4_096;
  }
  const match = CLAUDE_NAMED.exec(modelId);
  if (match === null) return null;
  const family = match[1];
  const major = Number(match[2]);
  const minor = match[3] === undefined ? 0 : Number(match[3]);
  if (major >= 5) return family === 'haiku' ? 64_000 : 128_000;
  if (major !== 4) return null;
  if (family === 'opus') return minor >= 6 ? 128_000 : minor === 5 ? 64_000 : 32_000;
  if (family === 'sonnet') return minor >= 6 ? 128_000 : 64_000;
  if (family === 'haiku') return 64_000;
  return null;
}

/** What is sent as max_tokens where one is required and the model cannot be placed: Claude 3 Haiku's, the least any gives. */
export const UNPLACED_CLAUDE_MAX_OUTPUT = 4_096;

/**
 * What a Claude is sent when the client names no limit: 4,096, no more than the model gives, the figure admission reserves
 * by default. Not the model's maximum (64,000 or 128,000): Anthropic estimates a call's output tokens per minute from its
 * max_tokens before it starts (8,000 to 32,000 a minute on its first tiers, so every such call would be refused), and
 * Bedrock reserves it against the tokens-per-minute quota, five times over for Claude 3.7 and later.
 */
const UNREQUESTED_CLAUDE_OUTPUT = 4_096;

/**
 * The output limit to send a Claude: the client's, no more than the model gives (a limit above it is a 400, where the
 * answer could not be longer anyway: a client asking a GPT's 100,000 keeps working when its call falls back to a Claude);
 * UNREQUESTED_CLAUDE_OUTPUT when the client names none; undefined when neither is known (another vendor's model).
 */
export function claudeOutputLimit(requested: number | undefined, model: ClaudeModelFeatures): number | undefined {
  const most = model.maxOutputTokens;
  if (requested === undefined) return most === null ? undefined : Math.min(most, UNREQUESTED_CLAUDE_OUTPUT);
  return most === null ? requested : Math.min(requested, most);
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
