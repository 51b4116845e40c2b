// A request's reasoning as Gemini's generationConfig.thinkingConfig (https://ai.google.dev/gemini-api/docs/thinking):
// Gemini 3 and later take a level (thinkingLevel), Gemini 2.5 a token budget (thinkingBudget); older models do not
// think. The figures follow Google's own mapping of OpenAI's levels on its OpenAI-compatible endpoint.
import type { ChatRequest, Reasoning, ReasoningEffort } from '../../ir/chat.js';

export type GeminiThinkingConfig = ({ thinkingBudget: number } | { thinkingLevel: 'minimal' | 'low' | 'medium' | 'high' }) & {
  /** Thought summaries in the answer, as parts marked `thought: true`. */
  includeThoughts?: true;
};

/** gemini-{major}[.{minor}]-{variant}..., as in gemini-2.5-flash-lite, gemini-3-pro-preview, gemini-3.1-pro. */
const GEMINI_VERSION = /gemini-(\d+)(?:\.(\d+))?-([a-z]+)/;

const BUDGET: Record<ReasoningEffort, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 24576 };

/**
 * The thinkingConfig for `model`, or null for a model that does not think. Gemini 2.5 Pro cannot stop thinking: `none`
 * is its least budget (128), as is Flash-Lite's least when thinking (512); budgets are kept within each model's range.
 * Gemini 3 cannot stop thinking either: `none` is its least level. Its Pro models take low and high only, Flash also
 * minimal and medium.
 */
export function geminiThinking(reasoning: Reasoning, model: string): GeminiThinkingConfig | null {
  const match = GEMINI_VERSION.exec(model);
  if (match === null) return null;
  const major = Number(match[1]);
  const minor = match[2] === undefined ? 0 : Number(match[2]);
  const pro = match[3] === 'pro';
  const effort = reasoning.effort;
  if (major >= 3) {
    if (pro) return { thinkingLevel: effort === 'none' || effort === 'minimal' || effort === 'low' ? 'low' : 'high' };
    if (effort === 'none' || effort === 'minimal') return { thinkingLevel: 'minimal' };
    return { thinkingLevel: effort === 'xhigh' ? 'high' : effort };
  }
  if (major !== 2 || minor < 5) return null;
  const lite = model.includes('flash-lite');
  const [least, most] = pro ? [128, 32768] : lite ? [512, 24576] : [0, 24576];
  const wanted = reasoning.budgetTokens ?? (pro && effort === 'xhigh' ? 32768 : BUDGET[effort]);
  // Flash-Lite takes 0 (no thinking) or 512 and more.
  if (lite && effort === 'none' && reasoning.budgetTokens === undefined) return { thinkingBudget: 0 };
  return { thinkingBudget: Math.min(Math.max(wanted, least), most) };
}

/**
 * The request's thinkingConfig: its reasoning (geminiThinking), and includeThoughts where the client asked for the
 * reasoning as text (ChatRequest.reasoningSummary) of a model that thinks, for Gemini gives thought summaries only then;
 * null when there is nothing to say.
 */
export function geminiThinkingConfig(
  request: Pick<ChatRequest, 'reasoning' | 'reasoningSummary'>,
  model: string,
): GeminiThinkingConfig | { includeThoughts: true } | null {
  const thinking = request.reasoning === undefined ? null : geminiThinking(request.reasoning, model);
  if (request.reasoningSummary !== true) return thinking;
  if (thinking === null) return geminiThinking({ effort: 'medium' }, model) === null ? null : { includeThoughts: true };
  return 'thinkingBudget' in thinking && thinking.thinkingBudget === 0 ? thinking : { ...thinking, includeThoughts: true };
}
