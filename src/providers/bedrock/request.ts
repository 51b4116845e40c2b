// IR -> Bedrock Converse request body (pure; never mutates its input).
import { SluiceError } from '../../errors.js';
import type { ChatRequest, ContentPart, ToolDefinition } from '../../ir/chat.js';
import { tryParseJson } from '../../wire/json.js';
import type { JsonAnswerTool } from '../shared/json-answer-tool.js';
import type { BedrockContentBlock, BedrockConverseRequest, BedrockImageFormat, BedrockMessage, BedrockTool } from './wire.js';

const IMAGE_FORMATS: Record<string, BedrockImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

function unsupported(param: string, what: string): SluiceError {
  return new SluiceError('unsupported_by_provider', `Provider bedrock does not support ${what}.`, { param });
}

/**
 * `answer`: the tool carrying a structured answer (response_format), from jsonAnswerTool(request), offered and chosen
 * here; null for a request that asks for none.
 */
export function bedrockConverseBody(request: ChatRequest, answer: JsonAnswerTool | null): BedrockConverseRequest {
  // With a JSON answer tool, "none" is expressed by forcing it (jsonAnswerTool): no client tool is called.
  if (request.toolChoice === 'none' && answer === null)
    throw unsupported('tool_choice', 'tool_choice "none" (the Converse API has no such choice)');
  const system: Array<{ text: string }> = [];
  const messages: BedrockMessage[] = [];
  const append = (role: 'user' | 'assistant', blocks: BedrockContentBlock[]) => {
    // Converse refuses a turn with no content and a blank text block, both of which OpenAI takes: they say nothing.
    blocks = blocks.filter((block) => !('text' in block) || block.text !== '');
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    // Converse requires alternating turns: consecutive tool results and user text share one user turn.
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        system.push({ text: message.content.map((part) => part.text).join('') });
        break;
      case 'user':
        append(
          'user',
          message.content.map((part, i) => toBlock(part, `messages[${index}].content[${i}]`)),
        );
        break;
      case 'assistant': {
        const blocks: BedrockContentBlock[] = message.content.map((part) => ({ text: part.text }));
        for (const call of message.toolCalls)
          blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: tryParseJson(call.arguments) ?? {} } });
        append('assistant', blocks);
        break;
      }
      case 'tool':
        append('user', [
          {
            toolResult: {
              toolUseId: message.toolCallId,
              content: message.content.map((part, i) => {
                const block = toBlock(part, `messages[${index}].content[${i}]`);
                return 'text' in block
                  ? { text: block.text }
                  : (block as { image: { format: BedrockImageFormat; source: { bytes: string } } });
              }),
              ...(message.isError === true && { status: 'error' as const }),
            },
          },
        ]);
        break;
    }
  });
  const body: BedrockConverseRequest = { messages };
  if (system.length > 0) body.system = system;
  const inference: NonNullable<BedrockConverseRequest['inferenceConfig']> = {};
  if (request.maxTokens !== undefined) inference.maxTokens = request.maxTokens;
  if (request.temperature !== undefined) inference.temperature = Math.min(request.temperature, 1);
  if (request.topP !== undefined) inference.topP = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) inference.stopSequences = request.stop;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  if (answer !== null) {
    const tools = (request.tools ?? []).map(toolSpec);
    tools.push({ toolSpec: { name: answer.name, description: answer.description, inputSchema: { json: answer.schema } } });
    body.toolConfig = { tools, toolChoice: answer.mode === 'force' ? { tool: { name: answer.name } } : { any: {} } };
  } else if (request.tools !== undefined && request.tools.length > 0) {
    body.toolConfig = { tools: request.tools.map(toolSpec) };
    const choice = request.toolChoice;
    if (choice === 'required') body.toolConfig.toolChoice = { any: {} };
    else if (typeof choice === 'object') body.toolConfig.toolChoice = { tool: { name: choice.name } };
    else if (choice === 'auto') body.toolConfig.toolChoice = { auto: {} };
  }
  return body;
}

function toolSpec(tool: ToolDefinition): BedrockTool {
  return {
    toolSpec: {
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      inputSchema: { json: tool.parameters },
    },
  };
}

function toBlock(part: ContentPart, at: string): BedrockContentBlock {
  if (part.type === 'text') return { text: part.text };
  if (part.type === 'document') throw unsupported(at, 'documents');
  if (part.source.kind === 'url') throw unsupported(at, 'images by URL; send the image as base64 data');
  const format = IMAGE_FORMATS[part.source.mediaType];
  if (format === undefined) throw unsupported(at, `images of type ${part.source.mediaType}`);
  return { image: { format, source: { bytes: part.source.data } } };
}
