// IR -> Gemini generateContent and batchEmbedContents request bodies (pure; never mutates its input).
import { SluiceError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import { isObject, tryParseJson } from '../../wire/json.js';
import { geminiIdOf } from './call-id.js';
import { signatureOf } from './thought-signature.js';
import { geminiThinkingConfig } from './thinking.js';
import type { GeminiBatchEmbedRequest, GeminiContent, GeminiPart, GeminiRequest } from './wire.js';

function unsupported(param: string, what: string): SluiceError {
  return new SluiceError('unsupported_by_provider', `Provider gemini does not support ${what}.`, { param });
}

/** Gemini takes up to 5 stop sequences: https://ai.google.dev/api/generate-content#generationconfig */
const MAX_STOP_SEQUENCES = 5;

/** `model`: the provider's name of the target model, which says how it takes reasoning. */
export function geminiChatBody(request: ChatRequest, model: string): GeminiRequest {
  // One part per block of the system prompt, the client's own division (Gemini takes systemInstruction.parts).
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  // Gemini answers a function by its name; the IR (like OpenAI) refers to the call by id.
  const callNames = new Map<string, string>();
  const append = (role: 'user' | 'model', parts: GeminiPart[]) => {
    // Gemini refuses a turn with no parts and an empty text, both of which OpenAI takes: they say nothing.
    parts = parts.filter((part) => !('text' in part) || part.text !== '');
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  request.messages.forEach((message: ChatMessage, index) => {
    switch (message.role) {
      case 'system':
        for (const part of message.content) if (part.text !== '') system.push({ text: part.text });
        break;
      case 'user':
        append(
          'user',
          message.content.map((part, i) => toPart(part, `messages[${index}].content[${i}]`)),
        );
        break;
      case 'assistant': {
        const parts: GeminiPart[] = message.content.map((part) => ({ text: part.text }));
        for (const call of message.toolCalls) {
          callNames.set(call.id, call.name);
          const args = tryParseJson(call.arguments);
          const signature = signatureOf(call.id);
          const id = geminiIdOf(call.id);
          parts.push({
            functionCall: { ...(id !== undefined && { id }), name: call.name, args: isObject(args) ? args : {} },
            ...(signature !== undefined && { thoughtSignature: signature }),
          });
        }
        append('model', parts);
        break;
      }
      case 'tool': {
        const name = callNames.get(message.toolCallId);
        if (name === undefined) {
          throw new SluiceError(
            'invalid_request',
            `messages[${index}].tool_call_id: no earlier assistant tool call has id ${message.toolCallId}`,
            { param: `messages[${index}].tool_call_id` },
          );
        }
        const texts = message.content.flatMap((part) => (part.type === 'text' ? [part.text] : []));
        // Several texts (a result of several blocks) go as a list, kept apart as the client kept them; one, parsed as JSON
        // where it is an object.
        const text = texts.length > 1 ? texts : (texts[0] ?? '');
        const parsed = typeof text === 'string' ? tryParseJson(text) : undefined;
        // A functionResponse carries JSON only (its own media parts are Gemini 3's alone): a result's images follow it
        // in the same turn as inlineData, which every Gemini model reads, rather than being lost.
        const images = message.content.flatMap((part, i) =>
          part.type === 'image' ? [toPart(part, `messages[${index}].content[${i}]`)] : [],
        );
        // A failed call's result goes under the "error" key, which Gemini reads as why the function failed
        // (https://ai.google.dev/api/caching#FunctionResponse); a result otherwise as the function's output.
        const response =
          message.isError === true ? { error: isObject(parsed) ? parsed : text } : isObject(parsed) ? parsed : { content: text };
        // By the id of Gemini's call where it gave one, which tells apart parallel calls to one function.
        const id = geminiIdOf(message.toolCallId);
        append('user', [{ functionResponse: { ...(id !== undefined && { id }), name, response } }, ...images]);
        break;
      }
    }
  });
  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const generation: NonNullable<GeminiRequest['generationConfig']> = {};
  if (request.maxTokens !== undefined) generation.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) generation.temperature = request.temperature;
  if (request.topP !== undefined) generation.topP = request.topP;
  if (request.topK !== undefined) generation.topK = request.topK;
  if (request.stop !== undefined && request.stop.length > 0) {
    // Refused rather than cut short: an answer that runs past where the client meant it to stop is not the one asked for.
    if (request.stop.length > MAX_STOP_SEQUENCES)
      throw unsupported('stop', `more than ${MAX_STOP_SEQUENCES} stop sequences (${request.stop.length} were given)`);
    generation.stopSequences = request.stop;
  }
  const format = request.responseFormat;
  if (format?.type === 'json_object') generation.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    generation.responseMimeType = 'application/json';
    generation.responseJsonSchema = format.schema;
  }
  const thinking = geminiThinkingConfig(request, model);
  if (thinking !== null) generation.thinkingConfig = thinking;
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined && { description: tool.description }),
          parametersJsonSchema: tool.parameters,
        })),
      },
    ];
  }
  const choice = request.toolChoice;
  // Gemini refuses a function calling config with no functions to apply it to ("Function calling config is set without
  // function_declarations"); Anthropic takes a tool_choice with an empty tools list: without tools it says nothing.
  if (choice !== undefined && body.tools !== undefined) {
    body.toolConfig = {
      functionCallingConfig:
        choice === 'auto'
          ? { mode: 'AUTO' }
          : choice === 'none'
            ? { mode: 'NONE' }
            : choice === 'required'
              ? { mode: 'ANY' }
              : { mode: 'ANY', allowedFunctionNames: [choice.name] },
    };
  }
  return body;
}

function toPart(part: ContentPart, at: string): GeminiPart {
  if (part.type === 'text') return { text: part.text };
  // Gemini reads a PDF's pages, and other documents as text: https://ai.google.dev/gemini-api/docs/document-processing
  if (part.type === 'document')
    return part.source.kind === 'pdf'
      ? { inlineData: { mimeType: 'application/pdf', data: part.source.data } }
      : { inlineData: { mimeType: 'text/plain', data: Buffer.from(part.source.text).toString('base64') } };
  if (part.source.kind === 'url') throw unsupported(at, 'images by URL; send the image as base64 data');
  return { inlineData: { mimeType: part.source.mediaType, data: part.source.data } };
}

export function geminiEmbedBody(request: EmbeddingsRequest, model: string): GeminiBatchEmbedRequest {
  return {
    requests: request.input.map((item, i) => {
      if (typeof item !== 'string') throw unsupported(`input[${i}]`, 'token arrays as embedding input; send text');
      return {
        model: `models/${model}`,
        content: { parts: [{ text: item }] },
        ...(request.dimensions !== undefined && { outputDimensionality: request.dimensions }),
      };
    }),
  };
}
