// What the discovery proxy reads of one call, per the wire format of the host it went to: the operation and model from
// the request (path and body; Bedrock and Vertex carry the model in the path), and the model and token usage from the
// response, whether JSON, SSE or AWS event-stream. It reads copies of the bytes as they pass, never holds a stream
// back and never changes a byte; a body past the size bound is passed on unread and the call counted as unparsed.
// The wire parsing is the providers' own: their stream decoders and usage readers.
import type { WireFormat } from '../config/discovery-schema.js';
import type { StreamDecoder } from '../ir/stream.js';
import type { Usage } from '../ir/usage.js';
import { anthropicUsage } from '../providers/anthropic/response.js';
import { AnthropicStreamDecoder } from '../providers/anthropic/stream.js';
import { bedrockUsage } from '../providers/bedrock/response.js';
import { BedrockStreamDecoder } from '../providers/bedrock/stream.js';
import { geminiAnswerUsage } from '../providers/gemini/response.js';
import { GeminiStreamDecoder } from '../providers/gemini/stream.js';
import { openaiUsage } from '../providers/openai/response.js';
import { responseObjectUsage } from '../providers/openai/responses-response.js';
import { ResponsesStreamDecoder } from '../providers/openai/responses-stream.js';
import { OpenAIStreamDecoder } from '../providers/openai/stream.js';
import { AwsEventStreamParser, type AwsEvent } from '../wire/aws-event-stream.js';
import { contentCodings, decodable, decodeContent, type Undecodable } from '../wire/content-coding.js';
import { asArray, asObject, asString, tryParseJson } from '../wire/json.js';
import { asTokenCount } from '../wire/usage.js';
import { usageExcludingCache } from '../ir/usage.js';

export interface RequestReading {
  /** chat, embeddings, ... or the last path segment; null when the path names none. */
  operation: string | null;
  model: string | null;
  stream: boolean;
  /** Whether the model is read from the body: false where the path names it (Bedrock, Gemini's own API). */
  modelInBody: boolean;
  /** Azure OpenAI's deployment, named in the path: what runs, whatever model the body names (enforce checks both). */
  deployment?: string;
  /** Every model a batch names (Anthropic's Message Batches: each request's own), when it names any; `model` the first. */
  batchModels?: string[];
  /**
   * A Responses API call naming no model but a stored prompt (`prompt.id`, whose model is kept with it at OpenAI): the
   * prompt's id; `model` is then `prompts/{id}`, the name the call is inventoried and judged by.
   */
  storedPrompt?: string;
  /** The wire the answer speaks when it is not the host's: Anthropic's, for Claude's rawPredict on Vertex AI. */
  answerWire?: WireFormat;
}

/** Why a request body cannot be read for its model. */
export type UnreadableBody = 'too_large' | Undecodable;

const BEDROCK_PATH = /^\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/;
/**
 * A model in a Google path: `models/{id}` (Gemini API, Vertex publishers' models: `publishers/{publisher}/models/{id}`),
 * and what else serves generation there, named with its collection so a policy can list it: `tunedModels/{id}` (the
 * Gemini API's tuned models) and `endpoints/{id}` (Vertex AI's tuned and deployed models).
 */
const GOOGLE_MODEL_PATH = /(?:\/publishers\/([^/]+))?\/(models|tunedModels|endpoints)\/([^/:]+):([A-Za-z]+)$/;

function operationOf(path: string): string | null {
  if (/\/chat\/completions$/.test(path)) return 'chat';
  if (/\/embeddings$/.test(path)) return 'embeddings';
  if (/\/messages$/.test(path)) return 'chat';
  if (/\/responses$/.test(path)) return 'responses';
  if (/\/completions$/.test(path)) return 'completions';
  if (/\/v2\/chat$|\/v1\/chat$/.test(path)) return 'chat';
  if (/\/v2\/embed$|\/v1\/embed$/.test(path)) return 'embeddings';
  return null;
}

/**
 * A model named in a path, percent-decoded; as it was sent when its encoding is broken (`%zz`): the proxy only reads
 * traffic, and decodeURIComponent's URIError, thrown here, once took the whole proxy down with it.
 */
function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Whether a path has a segment its origin may resolve away or join (an empty one, `//`, or a dot segment, `.` or `..`,
 * percent-encoded or not, or a backslash some servers take for a slash): then what the proxy reads (the wire, from
 * `/anthropic/...`; the model, from `/model/{id}/...`) may not be what the origin runs, as
 * `/anthropic/../model/{id}/converse`. RFC 3986 5.2.4 removes dot segments; `.` and `%2e` are the same character.
 */
export function pathNotNormal(path: string): boolean {
  if (path === '/') return false;
  if (path.includes('\\')) return true;
  return path
    .slice(1)
    .split('/')
    .some((segment) => segment === '' || /^(?:\.|%2e){1,2}$/i.test(segment));
}

/** The last `models/{id}` (with its publisher's name before it), `tunedModels/{id}` or `endpoints/{id}` of a Google resource name. */
const GOOGLE_RESOURCE_NAME = /(?:^|\/)(?:publishers\/([^/]+)\/)?(models|tunedModels|endpoints)\/([^/:]+)$/;

/**
 * The name a Google model is inventoried and judged by: a Vertex AI publisher's model other than Google's keeps its
 * publisher (`anthropic/claude-sonnet-4-5@20250929`, `meta/llama-...`), as Vertex's OpenAI-compatible API names it, so
 * two publishers' models of one name are two resources; Google's own, and the Gemini API's, are named by their id alone
 * (`gemini-2.5-pro`), as they always were; tuned models and endpoints keep their collection (`endpoints/{id}`).
 */
function googleModelName(publisher: string | undefined, collection: string, id: string): string {
  if (collection !== 'models') return `${collection}/${id}`;
  return publisher === undefined || publisher === 'google' ? id : `${publisher}/${id}`;
}

/**
 * A model a Google body (or a gRPC message, grpc-reading.ts) names, as a Google path names it: `models/gemini-2.5-pro` and
 * `projects/p/locations/l/publishers/google/models/gemini-2.5-pro` are `gemini-2.5-pro`, Google's own publisher prefix
 * (`google/gemini-2.5-pro`, Vertex's OpenAI-compatible API) is dropped, tuned models and endpoints keep their
 * collection; another publisher's (`.../publishers/anthropic/models/claude-...`, `meta/llama-...`) keeps its publisher.
 */
export function googleModelId(name: string): string {
  const match = GOOGLE_RESOURCE_NAME.exec(name);
  if (match !== null) return googleModelName(match[1], match[2]!, match[3]!);
  return name.startsWith('google/') ? name.slice('google/'.length) : name;
}

/** A model name, when `value` is one. */
function modelName(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Reads a request: `path` without its query, `body` its bytes when they were read whole (null past the bound), `query`
 * its query parameters (the Realtime API names its model there).
 */
export function readRequest(wire: WireFormat, path: string, body: Buffer | null, query: URLSearchParams | null = null): RequestReading {
  const json = body === null || body.length === 0 ? {} : asObject(tryParseJson(body.toString('utf8')));
  // A Realtime session's configuration (an ephemeral key's, POST /v1/realtime/client_secrets) names its model inside.
  const bodyModel = modelName(json.model) ?? modelName(asObject(json.session).model);
  if (wire === 'bedrock') {
    // StartAsyncInvoke (video and other long jobs) names its model in the body's `modelId`; its GETs list and poll jobs.
    if (path === '/async-invoke') {
      return { operation: 'async-invoke', model: modelName(json.modelId), stream: false, modelInBody: true };
    }
    const match = BEDROCK_PATH.exec(path);
    if (match === null) return { operation: null, model: null, stream: false, modelInBody: false };
    const operation = match[2]!;
    return {
      operation: operation.startsWith('converse') ? 'chat' : 'invoke',
      model: decodedOrRaw(match[1]!),
      stream: operation.endsWith('stream'),
      modelInBody: false,
    };
  }
  if (wire === 'gemini') {
    const match = GOOGLE_MODEL_PATH.exec(path);
    if (match !== null) {
      const method = match[4]!;
      const operation = /embed/i.test(method) ? 'embeddings' : /generate|predict/i.test(method) ? 'chat' : method;
      const publisher = match[1] === undefined ? undefined : decodedOrRaw(match[1]);
      const id = decodedOrRaw(match[3]!);
      // Claude on Vertex AI takes Anthropic's Messages API through rawPredict and streamRawPredict, and answers in it.
      const anthropic = publisher === 'anthropic' && /^(stream)?rawPredict$/i.test(method);
      // Its token counting names no model in the path (`count-tokens`), but Anthropic's `model` in the body.
      if (anthropic && id === 'count-tokens') {
        const model = bodyModel === null ? null : googleModelName(publisher, 'models', bodyModel);
        return { operation: 'count_tokens', model, stream: false, modelInBody: true, answerWire: 'anthropic' };
      }
      const model = googleModelName(publisher, match[2]!, id);
      return {
        operation,
        model,
        stream: /^stream/.test(method),
        modelInBody: false,
        ...(anthropic ? { answerWire: 'anthropic' as const } : {}),
      };
    }
    // Vertex's OpenAI-compatible endpoint (.../endpoints/openapi/chat/completions) names the model in the body, and so
    // does a context cache (cachedContents), each as a Google resource name: read by its id, as a path names it.
    return {
      operation: operationOf(path),
      model: bodyModel === null ? null : googleModelId(bodyModel),
      stream: json.stream === true,
      modelInBody: true,
    };
  }
  if (wire === 'openai') {
    // Azure OpenAI names the deployment in the path; the model it runs comes back in the answer. The body's model,
    // when there is one, is read first: so the body is still where the model is read from.
    // The Realtime API names what runs in the query, by WebSocket or WebRTC (an SDP offer posted alone): OpenAI's as
    // `model`, Azure's as the `deployment`.
    const match = /\/openai\/deployments\/([^/]+)\//.exec(path);
    const deployment = match === null ? modelName(query?.get('deployment')) : decodedOrRaw(match[1]!);
    const operation = operationOf(path);
    const named = bodyModel ?? deployment ?? modelName(query?.get('model'));
    // A Responses API call may name no model and run a stored prompt's: it is named by the prompt, as a collection names
    // what runs (`prompts/{id}`, beside Google's `tunedModels/{id}`), since the proxy cannot see that model.
    const storedPrompt = named === null && operation === 'responses' ? modelName(asObject(json.prompt).id) : null;
    return {
      operation,
      model: named ?? (storedPrompt === null ? null : `prompts/${storedPrompt}`),
      stream: json.stream === true,
      modelInBody: true,
      ...(deployment === null ? {} : { deployment }),
      ...(storedPrompt === null ? {} : { storedPrompt }),
    };
  }
  if (wire === 'anthropic' && /\/messages\/batches$/.test(path)) {
    // A batch of Messages calls, each with its own params and model, run later: every model it names is what runs.
    const batchModels = [
      ...new Set(
        asArray(json.requests)
          .map((request) => asObject(asObject(request).params).model)
          .filter((model): model is string => typeof model === 'string' && model !== ''),
      ),
    ];
    return {
      operation: 'batch',
      model: batchModels[0] ?? null,
      stream: false,
      modelInBody: true,
      ...(batchModels.length === 0 ? {} : { batchModels }),
    };
  }
  return { operation: operationOf(path), model: bodyModel, stream: json.stream === true, modelInBody: true };
}

export interface ResponseReading {
  /** The model the answer names (the served one), if it names one. */
  model: string | null;
  usage: Usage | null;
  /** True when the body could not be read: past the bound, an unknown framing or encoding, or not the expected JSON. */
  unparsed: boolean;
}

type Framing = 'json' | 'sse' | 'event-stream' | 'other';

function framingOf(contentType: string): Framing {
  const type = contentType.toLowerCase();
  if (type.startsWith('text/event-stream')) return 'sse';
  if (type.startsWith('application/vnd.amazon.eventstream')) return 'event-stream';
  if (type.includes('json')) return 'json';
  return 'other';
}

/** Bedrock's InvokeModelWithResponseStream: each chunk's JSON is base64 in `bytes`, the last carries the invocation metrics. */
class BedrockInvokeStreamDecoder {
  private readonly parser: AwsEventStreamParser;
  private readonly events: AwsEvent[];
  usage: Usage | null;

  constructor() {
    this.parser = new AwsEventStreamParser();
    this.events = [];
    this.usage = null;
  }

  push(chunk: Buffer): void {
    this.events.length = 0;
    for (const event of this.parser.push(chunk, this.events)) {
      const bytes = asObject(tryParseJson(event.body)).bytes;
      if (typeof bytes !== 'string') continue;
      const metrics = asObject(asObject(tryParseJson(Buffer.from(bytes, 'base64').toString('utf8')))['amazon-bedrock-invocationMetrics']);
      const input = asTokenCount(metrics.inputTokenCount);
      const output = asTokenCount(metrics.outputTokenCount);
      if (input !== undefined || output !== undefined) {
        this.usage = usageExcludingCache(
          input,
          output,
          asTokenCount(metrics.cacheReadInputTokenCount) ?? 0,
          asTokenCount(metrics.cacheWriteInputTokenCount) ?? 0,
        );
      }
    }
  }
}

function jsonUsage(wire: WireFormat, root: Record<string, unknown>): Usage {
  switch (wire) {
    case 'anthropic':
      return anthropicUsage(root.usage);
    case 'bedrock':
      return bedrockUsage(root.usage);
    case 'gemini':
      return geminiAnswerUsage(root);
    case 'cohere': {
      // Cohere v2 chat: usage.billed_units (and usage.tokens); v1: meta.billed_units.
      const usage = asObject(root.usage);
      const billed = asObject(usage.billed_units ?? asObject(root.meta).billed_units);
      return usageExcludingCache(asTokenCount(billed.input_tokens), asTokenCount(billed.output_tokens));
    }
    default: {
      // A Responses API answer: its usage, and the web and file searches among its output items, billed per use.
      if (root.object === 'response') return responseObjectUsage(root);
      // OpenAI's Responses API names its figures input_tokens/output_tokens; chat and embeddings prompt/completion_tokens.
      const usage = asObject(root.usage);
      if (usage.input_tokens !== undefined && usage.prompt_tokens === undefined) {
        return usageExcludingCache(asTokenCount(usage.input_tokens), asTokenCount(usage.output_tokens));
      }
      return openaiUsage(root.usage);
    }
  }
}

function headerNumber(headers: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return asTokenCount(Number(text));
}

/**
 * Reads a response as its bytes pass: `push` each chunk (a copy is kept only for a JSON body, up to the bound), `end`
 * once it is over. Usage a provider did not report stays null, never zero.
 */
export class ResponseReader {
  private readonly wire: WireFormat;
  private readonly framing: Framing;
  /** The content codings of a JSON answer, undone when it is read; null when it came uncompressed. */
  private readonly codings: string[] | null;
  private readonly maxBytes: number;
  private readonly decoder: StreamDecoder | null;
  private readonly invokeDecoder: BedrockInvokeStreamDecoder | null;
  private readonly chunks: Buffer[];
  private size: number;
  private model: string | null;
  private usage: Partial<Usage> | null;
  private readonly headerUsage: Usage | null;
  private failed: boolean;

  /** `operation`: the request's, from its path (operationOf): an OpenAI Responses API stream has events of its own. */
  constructor(
    wire: WireFormat,
    operation: string | null,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    maxBytes: number,
  ) {
    this.wire = wire;
    const codings = contentCodings(headers['content-encoding']);
    const framing = framingOf(asString(headers['content-type']));
    const compressed = codings.length > 0;
    // A compressed JSON answer is kept (compressed, within the bound) and decompressed once over; compressed streams are not read.
    this.framing = compressed && !(framing === 'json' && decodable(codings)) ? 'other' : framing;
    this.codings = compressed && this.framing === 'json' ? codings : null;
    this.maxBytes = maxBytes;
    this.chunks = [];
    this.size = 0;
    this.model = null;
    this.usage = null;
    this.failed = status >= 200 && status < 300 && this.framing === 'other';
    // Bedrock's InvokeModel answers carry the counts in headers, whatever the model's own body looks like.
    const input = headerNumber(headers, 'x-amzn-bedrock-input-token-count');
    const output = headerNumber(headers, 'x-amzn-bedrock-output-token-count');
    this.headerUsage = input === undefined && output === undefined ? null : usageExcludingCache(input, output);
    this.decoder = null;
    this.invokeDecoder = null;
    if (status >= 200 && status < 300) {
      if (this.framing === 'sse') {
        this.decoder =
          wire === 'anthropic'
            ? new AnthropicStreamDecoder()
            : wire === 'gemini'
              ? new GeminiStreamDecoder()
              : wire === 'openai'
                ? operation === 'responses'
                  ? new ResponsesStreamDecoder()
                  : new OpenAIStreamDecoder()
                : null;
        if (this.decoder === null) this.failed = true;
      } else if (this.framing === 'event-stream') {
        if (wire === 'bedrock') {
          // ConverseStream speaks Bedrock's own events; InvokeModelWithResponseStream wraps the model's in `bytes`.
          this.decoder = new BedrockStreamDecoder('');
          this.invokeDecoder = new BedrockInvokeStreamDecoder();
        } else this.failed = true;
      }
    }
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    try {
      if (this.decoder !== null) {
        this.take(this.decoder.push(chunk));
        this.invokeDecoder?.push(chunk);
      } else if (this.framing === 'json') {
        this.size += chunk.length;
        if (this.size > this.maxBytes) {
          this.failed = true;
          this.chunks.length = 0;
        } else this.chunks.push(Buffer.from(chunk));
      }
    } catch {
      // A stream the decoders cannot follow (a corrupt frame): the client still gets every byte; this call is unparsed.
      this.failed = true;
    }
  }

  /** What was read, once the answer is over; never rejects (what cannot be read is unparsed). */
  async end(status: number): Promise<ResponseReading> {
    if (!this.failed) {
      try {
        if (this.decoder !== null) this.take(this.decoder.end());
        else if (this.framing === 'json' && this.chunks.length > 0) {
          let bytes: Buffer = Buffer.concat(this.chunks);
          this.chunks.length = 0;
          // Bounded decompressed too: past maxBytes it fails, and the call is unparsed.
          if (this.codings !== null) {
            const decoded = await decodeContent(this.codings, bytes, this.maxBytes);
            if (typeof decoded === 'string') throw new Error(`the answer's content-encoding: ${decoded}`);
            bytes = decoded;
          }
          const root = asObject(tryParseJson(bytes.toString('utf8')));
          if (typeof root.model === 'string' && root.model !== '') this.model = root.model;
          else if (typeof root.modelVersion === 'string' && root.modelVersion !== '') this.model = root.modelVersion;
          if (status >= 200 && status < 300) {
            const usage = jsonUsage(this.wire, root);
            if (usage.reported) this.usage = usage;
          }
        }
      } catch {
        this.failed = true;
      }
    }
    let usage: Usage | null = this.headerUsage ?? this.invokeDecoder?.usage ?? null;
    if (usage === null && this.usage !== null) {
      usage = {
        inputTokens: this.usage.inputTokens ?? 0,
        outputTokens: this.usage.outputTokens ?? 0,
        cachedInputTokens: this.usage.cachedInputTokens ?? 0,
        cacheWriteTokens: this.usage.cacheWriteTokens ?? 0,
        reported: true,
      };
      if (this.usage.cacheWrite1hTokens !== undefined) usage.cacheWrite1hTokens = this.usage.cacheWrite1hTokens;
      // Searches the provider bills per use, priced with the tokens (Anthropic's web search, Gemini's grounding).
      if (this.usage.webSearches !== undefined) usage.webSearches = this.usage.webSearches;
      if (this.usage.fileSearches !== undefined) usage.fileSearches = this.usage.fileSearches;
    }
    return { model: this.model, usage, unparsed: this.failed && usage === null };
  }

  private take(events: ReturnType<StreamDecoder['push']>): void {
    for (const event of events) {
      if (event.type === 'start' && event.model !== '' && this.model === null) this.model = event.model;
      else if (event.type === 'usage') this.usage = { ...this.usage, ...event.usage };
    }
  }
}
