// A translated request's reasoning (an Anthropic client's thinking) as Chat Completions' reasoning_effort, for the
// models that take it: the o-series and the GPT-5 family (https://platform.openai.com/docs/guides/reasoning). Other
// models (gpt-4o, gpt-4.1, a compatible server's) refuse the field, so it is left off for them. And the other fields
// those reasoning models refuse where other models take them: sampling settings, stop, parallel_tool_calls.
import type { Reasoning, ReasoningEffort } from '../../ir/chat.js';

/** o1, o3, o3-mini, o4-mini...: low, medium and high. */
const O_SERIES = /^o\d+(?:-|$)/;
/** gpt-5, gpt-5-mini, gpt-5.1, gpt-5.2-pro... and not the non-reasoning gpt-5-chat. */
const GPT5 = /^gpt-(\d+)(?:\.(\d+))?(?!.*-chat)/;

/** The reasoning_effort to send `model`, or undefined: none it takes, or none to ask (the model's default). */
export function openaiReasoningEffort(reasoning: Reasoning, model: string): ReasoningEffort | undefined {
  const effort = reasoning.effort;
  if (O_SERIES.test(model)) {
    // They always reason; low is their least.
    if (effort === 'none' || effort === 'minimal') return 'low';
    return effort === 'xhigh' ? 'high' : effort;
  }
  const match = GPT5.exec(model);
  if (match === null || Number(match[1]) < 5) return undefined;
  const later = Number(match[1]) > 5 || match[2] !== undefined;
  if (!later) {
    // GPT-5 itself: minimal is its least, high its most.
    if (effort === 'none') return 'minimal';
    return effort === 'xhigh' ? 'high' : effort;
  }
  // GPT-5.1 on: none (no reasoning) to high; xhigh from 5.2; minimal not taken.
  if (effort === 'minimal') return 'low';
  if (effort === 'xhigh' && Number(match[1]) === 5 && Number(match[2]) < 2) return 'high';
  return effort;
}

/**
 * Whether `model` takes temperature and top_p when sent `effort`: the o-series and GPT-5 refuse any but their defaults
 * (a 400), GPT-5.1 and later take them only without reasoning (effort none, their default); every other model does.
 * An Anthropic client's sampling settings are left out where they would be refused.
 */
export function openaiTakesSampling(model: string, effort: ReasoningEffort | undefined): boolean {
  if (O_SERIES.test(model)) return false;
  const match = GPT5.exec(model);
  if (match === null || Number(match[1]) < 5) return true;
  const later = Number(match[1]) > 5 || match[2] !== undefined;
  return later && (effort === undefined || effort === 'none');
}

/**
 * Whether `model` takes stop sequences (`stop`): the o-series and GPT-5 to GPT-5.4 refuse the field outright ("Unsupported
 * parameter: 'stop' is not supported with this model."), GPT-5.5 and later take it again; every other model does.
 */
export function openaiTakesStop(model: string): boolean {
  if (O_SERIES.test(model)) return false;
  const match = GPT5.exec(model);
  if (match === null || Number(match[1]) < 5) return true;
  return Number(match[1]) > 5 || Number(match[2] ?? 0) >= 5;
}

/** OpenAI's own models (not gpt-oss, an open-weight model served by compatible servers). */
const OPENAI_OWN = /^(?:gpt-(?!oss)|chatgpt-|codex-|o\d+(?:-|$))/;

/**
 * Whether `model` takes reasoning back in an assistant message (`reasoning_content`, or `reasoning` as vLLM and
 * OpenRouter name it): a compatible server's model does (DeepSeek requires a tool-calling turn's back in thinking mode:
 * api-docs.deepseek.com/guides/thinking_mode); OpenAI's own models give none and refuse fields they do not know.
 */
export function openaiTakesReasoningBack(model: string): boolean {
  return !OPENAI_OWN.test(model);
}

/** Whether `model` takes parallel_tool_calls: the o-series refuse it ("Unsupported parameter"), true or false. */
export function openaiTakesParallelToolCalls(model: string): boolean {
  return !O_SERIES.test(model);
}

/**
 * Whether `model` takes Chat Completions' `max_tokens`: the o-series and GPT-5 and later refuse it ("Unsupported
 * parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."); every other does.
 */
export function openaiTakesMaxTokens(model: string): boolean {
  if (O_SERIES.test(model)) return false;
  const match = GPT5.exec(model);
  return match === null || Number(match[1]) < 5;
}
