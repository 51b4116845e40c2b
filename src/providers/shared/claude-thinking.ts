// A request's reasoning (OpenAI's reasoning_effort, an Anthropic client's thinking) as Claude takes it, for the
// translations to Anthropic's Messages API (direct and on Vertex) and Bedrock's Converse, which carry the same
// `thinking` object. Claude's rules (https://platform.claude.com/docs/en/build-with-claude/extended-thinking and
// /adaptive-thinking): a budget of at least 1,024 tokens below max_tokens; no forced tool use; no temperature or top_k,
// top_p only from 0.95; and, in a tool loop, the last assistant turn must start with the thinking block it was answered
// with, signed, which an OpenAI-shaped client sends back only in Sluice's thinking_blocks.
import { SluiceError } from '../../errors.js';
import type { ChatRequest, ReasoningEffort } from '../../ir/chat.js';
import type { ClaudeModelFeatures } from './claude-models.js';

/** The least budget_tokens Claude takes. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * The thinking budget of each level, for the models that take a budget. OpenAI publishes no token figures for its
 * levels; these follow Anthropic's guidance (start at the minimum, most tasks well served by a few thousand, 16k+ for
 * complex ones, diminishing returns past 32k).
 */
const LEVEL_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};

export type ClaudeEffort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

export interface ClaudeThinking {
  thinking: { type: 'enabled'; budget_tokens: number } | { type: 'adaptive' };
  /** `output_config.effort`, beside adaptive thinking. */
  effort?: ClaudeEffort;
  /** max_tokens for the call: the client's, or room for the thinking and an answer when it named none. */
  maxTokens: number;
  /**
   * top_p as Claude takes it while thinking (from 0.95 on; none at all from Claude 4.7), or undefined: not sent.
   * Temperature is never sent.
   */
  topP?: number;
}

/**
 * How `request` asks `model` to think, or null where it is not to: no reasoning asked for, `none`, a model that does not
 * think, a forced tool (the JSON answer tool, tool_choice "required" or naming a tool: Claude refuses thinking with
 * them), or a conversation whose last assistant turn called tools without the signed thinking it was answered with,
 * which Claude requires back (a client that did not carry it back): that turn is served without thinking rather than
 * refused. `defaultMaxTokens`: the
 * answer's room when the client named no limit. Throws a 400 when the client's limit leaves no room for the least budget.
 */
export function claudeThinking(
  request: ChatRequest,
  model: ClaudeModelFeatures,
  forcedTool: boolean,
  defaultMaxTokens: number,
): ClaudeThinking | null {
  const reasoning = request.reasoning;
  if (reasoning === undefined || reasoning.effort === 'none' || model.thinking === 'none' || forcedTool) return null;
  if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') return null;
  if (toolTurnWithoutThinking(request)) return null;
  const effort = reasoning.effort;
  const topP = request.topP !== undefined && request.topP >= 0.95 && model.sampling ? request.topP : undefined;
  const levelBudget = reasoning.budgetTokens ?? LEVEL_BUDGET[effort];
  if (model.thinking === 'adaptive') {
    return {
      thinking: { type: 'adaptive' },
      effort: adaptiveEffort(effort, model),
      maxTokens: request.maxTokens ?? levelBudget + defaultMaxTokens,
      ...(topP !== undefined && { topP }),
    };
  }
  if (request.maxTokens === undefined) {
    const budget = Math.max(levelBudget, MIN_THINKING_BUDGET);
    return {
      thinking: { type: 'enabled', budget_tokens: budget },
      maxTokens: budget + defaultMaxTokens,
      ...(topP !== undefined && { topP }),
    };
  }
  // The client's limit counts reasoning and answer together, as OpenAI's max_completion_tokens and Claude's max_tokens
  // both do: it is kept, and the budget fits under it.
  if (request.maxTokens <= MIN_THINKING_BUDGET)
    throw new SluiceError(
      'invalid_request',
      `The request's output token limit (${request.maxTokens}) leaves no room for reasoning on this Claude model: its thinking budget ` +
        `is at least ${MIN_THINKING_BUDGET} tokens and counts within the limit. Raise max_completion_tokens / max_tokens / ` +
        `max_output_tokens above ${MIN_THINKING_BUDGET} (or leave it out), or ask for no reasoning (reasoning_effort "none").`,
      { param: 'max_tokens' },
    );
  const budget = Math.max(Math.min(levelBudget, request.maxTokens - 1), MIN_THINKING_BUDGET);
  return { thinking: { type: 'enabled', budget_tokens: budget }, maxTokens: request.maxTokens, ...(topP !== undefined && { topP }) };
}

/** OpenAI's levels in Claude's effort: Claude has no `minimal` (low is its least), and `max` above high where no xhigh. */
function adaptiveEffort(effort: Exclude<ReasoningEffort, 'none'>, model: ClaudeModelFeatures): ClaudeEffort {
  if (effort === 'minimal') return 'low';
  if (effort === 'xhigh') return model.topEffort;
  return effort;
}

function toolTurnWithoutThinking(request: ChatRequest): boolean {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role === 'assistant')
      return message.toolCalls.length > 0 && !(message.reasoning !== undefined && message.reasoning.length > 0);
  }
  return false;
}
