// IR -> Anthropic Messages request body (pure; never mutates its input).
import { isClaudeSigned, type CacheBreakpoint, type ChatRequest, type ContentPart, type ImagePart, type TextPart } from '../../ir/chat.js';
import type { ClientBody } from '../../wire/exchange.js';
import {
  claudeOutputLimit,
  prefillRefusal,
  strictSchema,
  UNPLACED_CLAUDE_MAX_OUTPUT,
  type ClaudeModelFeatures,
} from '../shared/claude-models.js';
import { claudeThinking } from '../shared/claude-thinking.js';
import { endUserDigest } from '../shared/end-user-id.js';
import { claudeTakesToolUseId, claudeToolUseId } from '../shared/tool-use-id.js';
import type { JsonAnswerTool } from '../shared/json-answer-tool.js';
import { tryParseJson } from '../../wire/json.js';
import type {
  AnthropicCacheControl,
  AnthropicContentBlock,
  AnthropicImageSource,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicTool,
} from './wire.js';

/** Room for the answer beside a thinking budget when the client names no max_tokens (claudeThinking). */
const THINKING_ANSWER_ROOM = 4096;

/**
 * `answer`: the tool carrying a structured answer (response_format), from jsonAnswerTool(request), offered and chosen
 * here; null for a request that asks for none. `model`: what the target model takes (claudeModelFeatures): strict tools
 * for those the client marked strict and the answer's for a strict schema; temperature alone when it refuses top_p too;
 * its whole output when the client names no max_tokens, as OpenAI gives (Anthropic requires the field), and no more
 * than that when the client names more (claudeOutputLimit).
 */
export function anthropicRequestBody(
  request: ChatRequest,
  targetModel: string,
  client: ClientBody | null,
  answer: JsonAnswerTool | null,
  model: ClaudeModelFeatures,
): object {
  if (client?.dialect === 'anthropic') return withClaudeToolUseIds({ ...client.body, model: targetModel });
  // Worked out only for a request that asks for reasoning: the rest pay nothing for it.
  const thinking = request.reasoning === undefined ? null : claudeThinking(request, model, answer !== null, THINKING_ANSWER_ROOM);
  const system: TextPart[] = [];
  const messages: AnthropicMessage[] = [];
  const append = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[]) => {
    // Anthropic refuses a turn with no content and a text block that is empty or only whitespace, which OpenAI takes:
    // they say nothing.
    blocks = blocks.filter((block) => block.type !== 'text' || block.text.trim() !== '');
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    // Anthropic wants user and assistant turns to alternate: merge consecutive turns of one role (tool results, then text).
    if (last !== undefined && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
        // Anthropic refuses a text block that is empty or only whitespace, as in messages.
        for (const part of message.content) if (part.text.trim() !== '') system.push(part);
        break;
      case 'user':
        append('user', message.content.map(toBlock));
        break;
      case 'assistant': {
        const blocks: AnthropicContentBlock[] = message.content.map((part) => ({
          type: 'text',
          text: part.text,
          ...cacheControl(part.cache),
        }));
        // The signed thinking the turn was answered with comes first, as Claude requires of a tool-calling turn: sent
        // only while thinking (claudeThinking keeps it on for such a turn only when its thinking came back).
        if (message.reasoning !== undefined && thinking !== null) blocks.unshift(...(message.reasoning as AnthropicContentBlock[]));
        for (const call of message.toolCalls)
          blocks.push({ type: 'tool_use', id: claudeToolUseId(call.id), name: call.name, input: tryParseJson(call.arguments) ?? {} });
        append('assistant', blocks);
        break;
      }
      case 'tool': {
        // One text as a string; several (kept apart, as the client kept them) or images as blocks, blank texts left out
        // as Anthropic refuses them.
        const onlyText = message.content.length <= 1 && message.content.every((part) => part.type === 'text');
        const block: AnthropicContentBlock = {
          type: 'tool_result',
          tool_use_id: claudeToolUseId(message.toolCallId),
          content: onlyText
            ? message.content.map((part) => (part.type === 'text' ? part.text : '')).join('')
            : message.content.flatMap((part): ToolResultBlock[] =>
                part.type !== 'text'
                  ? [{ type: 'image' as const, source: imageSource(part) }]
                  : part.text.trim() === ''
                    ? []
                    : [{ type: 'text' as const, text: part.text }],
              ),
        };
        if (message.isError === true) block.is_error = true;
        if (message.cache !== undefined) block.cache_control = anthropicCacheControl(message.cache);
        append('user', [block]);
        break;
      }
    }
  }
  trimPrefill(messages);
  if (!model.prefill && messages.at(-1)?.role === 'assistant') throw prefillRefusal(targetModel);
  const body: AnthropicRequest = {
    model: targetModel,
    // Thinking's own figure (its budget and room for the answer) where reasoning was asked for.
    max_tokens: thinking?.maxTokens ?? claudeOutputLimit(request.maxTokens, model) ?? UNPLACED_CLAUDE_MAX_OUTPUT,
    messages,
  };
  // Several blocks (an Anthropic client's system array, an OpenAI system message's text parts, system messages further
  // on) stay several, as Claude takes them; one stays a string, unless it is where the client set a cache breakpoint.
  if (system.length === 1 && system[0]!.cache === undefined) body.system = system[0]!.text;
  else if (system.length > 0) body.system = system.map((part) => ({ type: 'text', text: part.text, ...cacheControl(part.cache) }));
  if (request.stream) body.stream = true;
  if (thinking !== null) {
    // Claude takes no temperature while thinking, and top_p only from 0.95: the reasoning asked for wins.
    body.thinking = thinking.thinking;
    if (thinking.effort !== undefined) body.output_config = { effort: thinking.effort };
    if (thinking.topP !== undefined) body.top_p = thinking.topP;
  } else if (model.sampling) {
    // (Claude 4.7 and later refuse any sampling setting with a 400: they get none.)
    if (request.temperature !== undefined) body.temperature = Math.min(request.temperature, 1);
    // Of the two, temperature is the one OpenAI's clients mean (OpenAI advises changing one, and most change temperature).
    if (request.topP !== undefined && (model.temperatureWithTopP || request.temperature === undefined)) body.top_p = request.topP;
    // An Anthropic client's own top_k, where its body does not pass through (Claude on Vertex); none while thinking.
    if (request.topK !== undefined) body.top_k = request.topK;
  }
  // Anthropic refuses a stop sequence that is empty or only whitespace (OpenAI's clients often send "\n"): such ones are
  // left out, as settings Claude has no form of are, rather than failing the call.
  const stop = request.stop?.filter((sequence) => sequence.trim() !== '') ?? [];
  if (stop.length > 0) body.stop_sequences = stop;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      ...anthropicTool(tool.name, tool.description, tool.parameters, model.strictTools && tool.strict === true),
      ...cacheControl(tool.cache),
    }));
  }
  const choice = request.toolChoice;
  const noParallel = request.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (answer !== null) {
    (body.tools ??= []).push(anthropicTool(answer.name, answer.description, answer.schema, model.strictTools && answer.strict));
    // One call of the forced tool: the answer.
    body.tool_choice =
      answer.mode === 'force' ? { type: 'tool', name: answer.name, disable_parallel_tool_use: true } : { type: 'any', ...noParallel };
  } else if (choice !== undefined) {
    if (choice === 'auto') body.tool_choice = { type: 'auto', ...noParallel };
    else if (choice === 'none') body.tool_choice = { type: 'none' };
    else if (choice === 'required') body.tool_choice = { type: 'any', ...noParallel };
    else body.tool_choice = { type: 'tool', name: choice.name, ...noParallel };
  } else if (request.parallelToolCalls === false && body.tools !== undefined) {
    body.tool_choice = { type: 'auto', disable_parallel_tool_use: true };
  }
  if (request.user !== undefined) body.metadata = { user_id: claudeUserId(request.user) };
  return body;
}

/**
 * An Anthropic client's own body with its tool_use and tool_result ids as Claude takes them: the client keeps the ids
 * Sluice gave it, another provider's when the conversation began there (an OpenAI-compatible server's
 * `functions.get_weather:0`), which Claude refuses. Thinking blocks without a signature (another provider's reasoning,
 * as Sluice gave it) are left out, as Claude refuses those too ("thinking.signature: Field required"). The body itself
 * when there is nothing of the kind, as nearly always.
 */
export function withClaudeToolUseIds(body: Record<string, unknown>): Record<string, unknown> {
  const messages = body.messages;
  if (!Array.isArray(messages) || !messages.some((message) => blocksOf(message).some(notClaudes))) return body;
  return {
    ...body,
    messages: messages.map((message: unknown) => {
      const blocks = blocksOf(message);
      if (!blocks.some(notClaudes)) return message;
      return {
        ...(message as Record<string, unknown>),
        content: blocks
          .filter((block) => !isUnsignedThinking(block))
          .map((block) => {
            if (!hasForeignId(block)) return block;
            const { id, tool_use_id: toolUseId } = block as { id?: unknown; tool_use_id?: unknown };
            return typeof id === 'string' && block.type === 'tool_use'
              ? { ...block, id: claudeToolUseId(id) }
              : { ...block, tool_use_id: claudeToolUseId(toolUseId as string) };
          }),
      };
    }),
  };
}

/** A block Claude would refuse: another provider's tool id, or thinking it did not sign. */
function notClaudes(block: Record<string, unknown>): boolean {
  return hasForeignId(block) || isUnsignedThinking(block);
}

function isUnsignedThinking(block: Record<string, unknown>): boolean {
  return typeof block === 'object' && block !== null && block.type === 'thinking' && !isClaudeSigned(block);
}

function blocksOf(message: unknown): Array<Record<string, unknown>> {
  const content = typeof message === 'object' && message !== null ? (message as { content?: unknown }).content : undefined;
  return Array.isArray(content) ? (content as Array<Record<string, unknown>>) : [];
}

function hasForeignId(block: Record<string, unknown>): boolean {
  if (typeof block !== 'object' || block === null) return false;
  const id = block.type === 'tool_use' ? block.id : block.type === 'tool_result' ? block.tool_use_id : undefined;
  return typeof id === 'string' && !claudeTakesToolUseId(id);
}

/** A block of a tool_result's content. */
type ToolResultBlock = { type: 'text'; text: string } | { type: 'image'; source: AnthropicImageSource };

/** Anthropic takes an end-user id of at most 256 characters. */
const MAX_USER_ID_LENGTH = 256;

/**
 * The end-user id as Anthropic takes it: opaque, refusing one that is an email address ("user_id appears to contain an
 * email address"), which OpenAI's clients often send as `user`, or longer than it takes. Such an id goes as its digest,
 * which still tells one caller from another, rather than failing every call.
 */
function claudeUserId(user: string): string {
  return user.includes('@') || user.length > MAX_USER_ID_LENGTH ? endUserDigest(user) : user;
}

/**
 * A conversation that ends with an assistant turn is a prefill Claude continues, and Anthropic refuses one whose text
 * ends in whitespace ("final assistant content cannot end with trailing whitespace"), which OpenAI takes: that whitespace
 * is left out, and a text of nothing else with it (the turn too, when nothing is left). Changes only blocks built here.
 */
function trimPrefill(messages: AnthropicMessage[]): void {
  for (;;) {
    const last = messages.at(-1);
    if (last?.role !== 'assistant' || !Array.isArray(last.content)) return;
    const block = last.content.at(-1);
    if (block?.type !== 'text') return;
    block.text = block.text.trimEnd();
    if (block.text !== '') return;
    last.content.pop();
    if (last.content.length === 0) messages.pop();
  }
}

/** A tool in Anthropic's wire; a strict one with its schema as strict mode takes it (or not strict, if it cannot be). */
function anthropicTool(name: string, description: string | undefined, schema: Record<string, unknown>, strict: boolean): AnthropicTool {
  const tool: AnthropicTool = { name, ...(description !== undefined && { description }), input_schema: schema };
  const strictInput = strict ? strictSchema(schema) : null;
  if (strictInput !== null) {
    tool.input_schema = strictInput;
    tool.strict = true;
  }
  return tool;
}

function toBlock(part: ContentPart): AnthropicContentBlock {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text, ...cacheControl(part.cache) };
    case 'image':
      return { type: 'image', source: imageSource(part), ...cacheControl(part.cache) };
    case 'document':
      return {
        type: 'document',
        source:
          part.source.kind === 'pdf'
            ? { type: 'base64', media_type: 'application/pdf', data: part.source.data }
            : { type: 'text', media_type: 'text/plain', data: part.source.text },
        ...(part.name !== undefined && { title: part.name }),
        ...cacheControl(part.cache),
      };
  }
}

/** The client's prompt-cache breakpoint, as Claude takes it (an Anthropic client's cache_control, as it sent it). */
function anthropicCacheControl(cache: CacheBreakpoint): AnthropicCacheControl {
  return cache.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: cache.ttl };
}

/** A block's cache_control field where the client set a breakpoint on it; nothing where it did not. */
function cacheControl(cache: CacheBreakpoint | undefined): { cache_control?: AnthropicCacheControl } {
  return cache === undefined ? {} : { cache_control: anthropicCacheControl(cache) };
}

function imageSource(part: ImagePart): AnthropicImageSource {
  return part.source.kind === 'url'
    ? { type: 'url', url: part.source.url }
    : { type: 'base64', media_type: part.source.mediaType, data: part.source.data };
}
