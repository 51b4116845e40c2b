// IR -> Bedrock Converse request body (pure; never mutates its input).
import { SluiceError } from '../../errors.js';
import type { CacheBreakpoint, ChatRequest, ContentPart, ToolDefinition } from '../../ir/chat.js';
import { tryParseJson } from '../../wire/json.js';
import { claudeOutputLimit, prefillRefusal, strictSchema, type ClaudeModelFeatures } from '../shared/claude-models.js';
import { BEDROCK_TOOL_USE_ID_MAX, claudeToolUseId, toolCallIdWithin } from '../shared/tool-use-id.js';
import { claudeThinking } from '../shared/claude-thinking.js';
import type { JsonAnswerTool } from '../shared/json-answer-tool.js';
import { converseReasoning } from './reasoning.js';
import {
  STOP_SEQUENCE_PATH,
  type BedrockCachePoint,
  type BedrockContentBlock,
  type BedrockConverseRequest,
  type BedrockImageFormat,
  type BedrockMessage,
  type BedrockTool,
} from './wire.js';

const IMAGE_FORMATS: Record<string, BedrockImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** What the model is asked beside documents sent alone: Converse refuses a turn with a document and no text. */
const DOCUMENT_PROMPT = 'See the attached document.';
/** A file name's extension, dropped from a document's name (Converse allows no dots). */
const EXTENSION = /\.[A-Za-z0-9]{1,5}$/;
/** Runs of characters a Converse document name may not hold (it takes ASCII letters and digits, not all Unicode). */
const NOT_IN_NAME = /[^A-Za-z0-9()[\]-]+/g;
const MAX_NAME = 200;
/** The answer's room beside a thinking budget when the client named no limit (Converse's own default is the model's). */
const CONVERSE_ANSWER_ROOM = 4096;

/** A tool call id as Converse takes it: its characters and at most 64 of them. */
function bedrockToolUseId(id: string): string {
  return toolCallIdWithin(claudeToolUseId(id), BEDROCK_TOOL_USE_ID_MAX);
}

function unsupported(param: string, what: string): SluiceError {
  return new SluiceError('unsupported_by_provider', `Provider bedrock does not support ${what}.`, { param });
}

/**
 * `answer`: the tool carrying a structured answer (response_format), from jsonAnswerTool(request), offered and chosen
 * here; null for a request that asks for none. `model`: what a Claude model takes (claudeModelFeatures; any other model
 * is sent everything as asked); `modelId`: the model's id, to name it in a refusal.
 */
export function bedrockConverseBody(
  request: ChatRequest,
  answer: JsonAnswerTool | null,
  model: ClaudeModelFeatures,
  modelId: string,
): BedrockConverseRequest {
  // Converse has no "none". With a JSON answer tool it is expressed by forcing that tool (jsonAnswerTool); otherwise by
  // offering no tools, which Converse allows only while no turn holds a tool call or result (those need toolConfig).
  const noTools = request.toolChoice === 'none' && answer === null;
  if (
    noTools &&
    request.messages.some((message) => message.role === 'tool' || (message.role === 'assistant' && message.toolCalls.length > 0))
  )
    throw unsupported(
      'tool_choice',
      'tool_choice "none" once the conversation holds tool calls (the Converse API has no such choice, and takes tool calls only with the tools offered)',
    );
  // Claude's thinking rides in additionalModelRequestFields, in Anthropic's own shape, under Anthropic's rules; a tool
  // loop's signed thinking rides back in reasoningContent blocks.
  const thinking = request.reasoning === undefined ? null : claudeThinking(request, model, answer !== null, CONVERSE_ANSWER_ROOM);
  // The client's prompt-cache breakpoints, as cachePoint blocks after what they mark, for a model that caches: another
  // would refuse the block.
  const caches = BEDROCK_PROMPT_CACHING.test(modelId);
  const after = <T>(block: T, cache: CacheBreakpoint | undefined): Array<T | BedrockCachePoint> =>
    caches && cache !== undefined ? [block, cachePoint(cache)] : [block];
  const system: NonNullable<BedrockConverseRequest['system']> = [];
  const messages: BedrockMessage[] = [];
  const documentNames = new Set<string>();
  const append = (role: 'user' | 'assistant', blocks: BedrockContentBlock[]) => {
    // Converse refuses a turn with no content and a text block that is empty or only whitespace, which OpenAI takes: they
    // say nothing.
    blocks = blocks.filter((block) => !('text' in block) || block.text.trim() !== '');
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    // Converse requires alternating turns: consecutive tool results and user text share one user turn.
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        // One SystemContentBlock per block of the client's (Converse refuses a blank one).
        for (const part of message.content) if (part.text.trim() !== '') system.push(...after({ text: part.text }, part.cache));
        break;
      case 'user':
        append(
          'user',
          message.content.flatMap((part, i) => after(toBlock(part, `messages[${index}].content[${i}]`, documentNames), part.cache)),
        );
        break;
      case 'assistant': {
        const blocks: BedrockContentBlock[] = [];
        // The signed thinking the turn was answered with comes first, as Claude requires of a tool-calling turn: sent
        // only while thinking (claudeThinking keeps it on for such a turn only when its thinking came back).
        if (message.reasoning !== undefined && thinking !== null)
          for (const block of message.reasoning) {
            const reasoningContent = converseReasoning(block);
            if (reasoningContent !== null) blocks.push({ reasoningContent });
          }
        for (const part of message.content) blocks.push(...after({ text: part.text }, part.cache));
        for (const call of message.toolCalls)
          blocks.push({ toolUse: { toolUseId: bedrockToolUseId(call.id), name: call.name, input: tryParseJson(call.arguments) ?? {} } });
        append('assistant', blocks);
        break;
      }
      case 'tool':
        append(
          'user',
          after<BedrockContentBlock>(
            {
              toolResult: {
                toolUseId: bedrockToolUseId(message.toolCallId),
                content: message.content.map((part, i) => {
                  const block = toBlock(part, `messages[${index}].content[${i}]`, documentNames);
                  return 'text' in block
                    ? { text: block.text }
                    : (block as { image: { format: BedrockImageFormat; source: { bytes: string } } });
                }),
                ...(message.isError === true && { status: 'error' as const }),
              },
            },
            message.cache,
          ),
        );
        break;
    }
  });
  for (const message of messages) if (message.role === 'user') promptDocuments(message.content);
  trimPrefill(messages);
  if (!model.prefill && messages.at(-1)?.role === 'assistant') throw prefillRefusal(modelId);
  const body: BedrockConverseRequest = { messages };
  if (system.length > 0) body.system = system;
  const inference: NonNullable<BedrockConverseRequest['inferenceConfig']> = {};
  if (thinking !== null) {
    inference.maxTokens = thinking.maxTokens;
    if (thinking.topP !== undefined) inference.topP = thinking.topP;
    body.additionalModelRequestFields = {
      thinking: thinking.thinking,
      ...(thinking.effort !== undefined && { output_config: { effort: thinking.effort } }),
    };
  } else {
    // Without one Converse caps a Claude's answer at 4,096 tokens, not the model's own maximum as AWS documents: a Claude
    // is sent its maximum, as OpenAI gives a client that names none (and no more when the client names more); another
    // model keeps Bedrock's default.
    const maxTokens = claudeOutputLimit(request.maxTokens, model);
    if (maxTokens !== undefined) inference.maxTokens = maxTokens;
    // Temperature alone to a Claude that refuses the pair, none to one that refuses both (Claude 4.7 on), as for Anthropic
    // (anthropic/request.ts).
    if (model.sampling) {
      if (request.temperature !== undefined) inference.temperature = Math.min(request.temperature, 1);
      if (request.topP !== undefined && (model.temperatureWithTopP || request.temperature === undefined)) inference.topP = request.topP;
      const topK = request.topK === undefined ? null : converseTopK(modelId, request.topK);
      if (topK !== null) body.additionalModelRequestFields = topK;
    }
  }
  // Converse refuses an empty stop sequence (stopSequences "Minimum length of 1"), and Claude one of only whitespace
  // ("each stop sequence must contain non-whitespace"), both of which OpenAI takes: such ones are left out, as they are
  // for Claude on Anthropic's API, rather than failing the call.
  const claude = BEDROCK_CLAUDE.test(modelId);
  const stop = request.stop?.filter((sequence) => (claude ? sequence.trim() !== '' : sequence !== '')) ?? [];
  if (stop.length > 0) {
    inference.stopSequences = stop;
    // Converse says only that a stop sequence ended the answer, not which: Claude's own answer says which, returned
    // when asked for (an Anthropic client is told it, as Anthropic's API tells it).
    body.additionalModelResponseFieldPaths = [STOP_SEQUENCE_PATH];
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const toolSpec = (tool: ToolDefinition) => after(converseTool(tool, model.strictTools && tool.strict === true), tool.cache);
  if (answer !== null) {
    const tools = (request.tools ?? []).flatMap(toolSpec);
    tools.push(
      converseTool({ name: answer.name, description: answer.description, parameters: answer.schema }, model.strictTools && answer.strict),
    );
    body.toolConfig = { tools, toolChoice: answer.mode === 'force' ? { tool: { name: answer.name } } : { any: {} } };
  } else if (request.tools !== undefined && request.tools.length > 0 && !noTools) {
    body.toolConfig = { tools: request.tools.flatMap(toolSpec) };
    const choice = request.toolChoice;
    if (choice === 'required') body.toolConfig.toolChoice = { any: {} };
    else if (typeof choice === 'object') body.toolConfig.toolChoice = { tool: { name: choice.name } };
    else if (choice === 'auto') body.toolConfig.toolChoice = { auto: {} };
  }
  if (request.parallelToolCalls === false && body.toolConfig !== undefined && model.converseParallelToolChoice) {
    // Claude's own tool_choice, of the same type as Converse's (a differing one is refused), carries the setting.
    const converse = body.toolConfig.toolChoice;
    const type =
      converse === undefined || 'auto' in converse
        ? { type: 'auto' }
        : 'any' in converse
          ? { type: 'any' }
          : { type: 'tool', name: converse.tool.name };
    body.additionalModelRequestFields = { ...body.additionalModelRequestFields, tool_choice: { ...type, disable_parallel_tool_use: true } };
  }
  return body;
}

/** Claude's id on Bedrock (anthropic.claude-..., with a region's prefix or in a foundation model's ARN). */
const BEDROCK_CLAUDE = /(^|[.:/])anthropic\.claude/;
/** Amazon Nova's (amazon.nova-pro-v1:0, us.amazon.nova-2-lite-v1:0, ...). */
const BEDROCK_NOVA = /(^|[.:/])amazon\.nova/;

/**
 * The models Bedrock caches prompts for at cachePoint blocks
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html): Claude 3.5 Haiku, Claude 3.7 Sonnet and
 * every Claude from 4, and Amazon Nova. Others (Claude 3 Haiku, Llama, Mistral, ...) are sent none.
 */
const BEDROCK_PROMPT_CACHING = /(^|[.:/])(anthropic\.claude-(3-5-haiku|3-7-sonnet|(opus|sonnet|haiku)-\d)|amazon\.nova)/;

/** A client's prompt-cache breakpoint as Converse takes it, its lifetime kept where the client named one. */
function cachePoint(cache: CacheBreakpoint): BedrockCachePoint {
  return { cachePoint: cache.ttl === undefined ? { type: 'default' } : { type: 'default', ttl: cache.ttl } };
}

/**
 * top_k in the model's own fields, which Converse's inferenceConfig lacks: Claude's `top_k` (its Messages API's own
 * field, as in AWS's Converse examples) and Nova's `inferenceConfig.topK`
 * (https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html). Null for any other model, which
 * would refuse a key it does not know ("extraneous key [top_k] is not permitted"): left out, as settings that tune how
 * an answer is made are where a model has none.
 */
function converseTopK(modelId: string, topK: number): Record<string, unknown> | null {
  if (BEDROCK_CLAUDE.test(modelId)) return { top_k: topK };
  if (BEDROCK_NOVA.test(modelId)) return { inferenceConfig: { topK } };
  return null;
}

/**
 * A conversation that ends with an assistant turn is a prefill the model continues, and Converse refuses one whose text
 * ends in whitespace for Claude ("final assistant content cannot end with trailing whitespace"), which OpenAI takes: that
 * whitespace is left out. Blocks are the ones built here; a text left blank was already filtered out by append.
 */
function trimPrefill(messages: BedrockMessage[]): void {
  const last = messages.at(-1);
  const block = last?.role === 'assistant' ? last.content.at(-1) : undefined;
  if (block !== undefined && 'text' in block) block.text = block.text.trimEnd();
}

/** A tool in Converse's wire; a strict one with its schema as strict mode takes it (or not strict, if it cannot be). */
function converseTool(tool: ToolDefinition, strict: boolean): BedrockTool {
  const strictInput = strict ? strictSchema(tool.parameters) : null;
  return {
    toolSpec: {
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: { json: strictInput ?? tool.parameters },
      ...(strictInput !== null && { strict: true }),
    },
  };
}

function toBlock(part: ContentPart, at: string, documentNames: Set<string>): BedrockContentBlock {
  if (part.type === 'text') return { text: part.text };
  if (part.type === 'document') {
    const name = documentName(part.name, documentNames);
    return part.source.kind === 'pdf'
      ? { document: { format: 'pdf', name, source: { bytes: part.source.data } } }
      : { document: { format: 'txt', name, source: { bytes: Buffer.from(part.source.text).toString('base64') } } };
  }
  if (part.source.kind === 'url') throw unsupported(at, 'images by URL; send the image as base64 data');
  const format = IMAGE_FORMATS[part.source.mediaType];
  if (format === undefined) throw unsupported(at, `images of type ${part.source.mediaType}`);
  return { image: { format, source: { bytes: part.source.data } } };
}

/**
 * A name Converse takes for a document: the client's file name or title without its extension, other characters made
 * spaces, at most 200 characters, "Document" when nothing is left, and " (2)", " (3)"... after a name already used in
 * the request, which Converse refuses ("Messages can't contain duplicate document names").
 */
function documentName(given: string | undefined, taken: Set<string>): string {
  const base =
    (given ?? '')
      .replace(EXTENSION, '')
      .replace(NOT_IN_NAME, ' ')
      .trim()
      .slice(0, MAX_NAME - 8)
      .trim() || 'Document';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
  taken.add(name);
  return name;
}

/** A user turn with documents and no text gets a neutral question: Converse requires text beside documents. */
function promptDocuments(content: BedrockContentBlock[]): void {
  if (content.some((block) => 'document' in block) && !content.some((block) => 'text' in block && block.text.trim() !== ''))
    content.push({ text: DOCUMENT_PROMPT });
}
