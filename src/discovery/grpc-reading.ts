// What the discovery proxy reads of a gRPC call to Vertex AI or the Gemini API: the model from the request's first
// message, and the usage from each answer message, decoded with protobufjs's Reader by the field numbers of Google's own
// definitions (googleapis: google/cloud/aiplatform/v1{,beta1}/prediction_service.proto, llm_utility_service.proto;
// google/ai/generativelanguage/v1{,beta}/generative_service.proto, v1beta/prediction_service.proto). Only those fields
// are read; every other is skipped unread. The messages come out of gRPC's framing, compression undone, by grpc-framing.ts.
import protobuf from 'protobufjs/minimal.js';
import type { Usage } from '../ir/usage.js';
import { geminiUsage } from '../providers/gemini/response.js';
import { asObject, tryParseJson } from '../wire/json.js';
import { GrpcFramer, grpcMessage, type UnreadableMessage } from './grpc-framing.js';
import { googleModelId } from './reading.js';

/** Where a response's figures are, by the API's definitions (their field numbers differ). */
interface ResponseLayout {
  usageMetadata: number;
  modelVersion: number;
  /** Inside UsageMetadata. */
  prompt: number;
  candidates: number;
  thoughts: number;
  cached: number;
}

const VERTEX_RESPONSE: ResponseLayout = { usageMetadata: 4, modelVersion: 11, prompt: 1, candidates: 2, thoughts: 14, cached: 5 };
const GEMINI_RESPONSE: ResponseLayout = { usageMetadata: 3, modelVersion: 4, prompt: 1, candidates: 2, thoughts: 10, cached: 4 };

/** A gRPC method that names a model: the fields of its request that name it (the first set wins), and its answer's layout. */
export interface GrpcMethod {
  operation: string;
  modelFields: readonly number[];
  /** A google.api.HttpBody field whose data is a JSON body naming `model`, read before `modelFields` (ChatCompletions). */
  jsonBody?: number;
  stream: boolean;
  response: ResponseLayout | null;
}

function methods(): ReadonlyMap<string, GrpcMethod> {
  const table = new Map<string, GrpcMethod>();
  const add = (service: string, method: string, operation: string, modelFields: number[], response: ResponseLayout | null) =>
    table.set(`/${service}/${method}`, { operation, modelFields, stream: /^Stream|^ServerStreaming/.test(method), response });
  for (const version of ['v1', 'v1beta1']) {
    const prediction = `google.cloud.aiplatform.${version}.PredictionService`;
    // GenerateContentRequest.model = 5; the Predict family's requests name their `endpoint` = 1 (a publisher model too).
    add(prediction, 'GenerateContent', 'chat', [5], VERTEX_RESPONSE);
    add(prediction, 'StreamGenerateContent', 'chat', [5], VERTEX_RESPONSE);
    for (const method of [
      'Predict',
      'RawPredict',
      'StreamRawPredict',
      'ServerStreamingPredict',
      'DirectPredict',
      'DirectRawPredict',
      'Explain',
    ])
      add(prediction, method, 'predict', [1], null);
    // Bidirectional streams: their first message names the endpoint, as the others' only one does.
    for (const method of ['StreamingPredict', 'StreamingRawPredict', 'StreamDirectPredict', 'StreamDirectRawPredict'])
      add(prediction, method, 'predict', [1], null);
    // EmbedContentRequest.model = 1.
    add(prediction, 'EmbedContent', 'embeddings', [1], null);
    // CountTokensRequest and ComputeTokensRequest: `model` = 3 when given, else the `endpoint` = 1.
    add(prediction, 'CountTokens', 'countTokens', [3, 1], null);
    const utility = `google.cloud.aiplatform.${version}.LlmUtilityService`;
    add(utility, 'CountTokens', 'countTokens', [3, 1], null);
    add(utility, 'ComputeTokens', 'computeTokens', [3, 1], null);
  }
  // Vertex AI's OpenAI-compatible chat over gRPC: ChatCompletionsRequest { endpoint = 1, http_body = 2 }, its model in
  // the JSON body as over REST (`.../endpoints/openapi` names none).
  table.set('/google.cloud.aiplatform.v1beta1.PredictionService/ChatCompletions', {
    operation: 'chat',
    modelFields: [1],
    jsonBody: 2,
    stream: false,
    response: null,
  });
  for (const version of ['v1', 'v1beta']) {
    // The Gemini API's requests all name their `model` = 1.
    const generative = `google.ai.generativelanguage.${version}.GenerativeService`;
    add(generative, 'GenerateContent', 'chat', [1], GEMINI_RESPONSE);
    add(generative, 'StreamGenerateContent', 'chat', [1], GEMINI_RESPONSE);
    add(generative, 'GenerateAnswer', 'chat', [1], null);
    add(generative, 'EmbedContent', 'embeddings', [1], null);
    add(generative, 'BatchEmbedContents', 'embeddings', [1], null);
    add(generative, 'CountTokens', 'countTokens', [1], null);
  }
  // The Gemini API's Predict (Imagen): PredictRequest.model = 1 (generativelanguage/v1beta/prediction_service.proto).
  add('google.ai.generativelanguage.v1beta.PredictionService', 'Predict', 'predict', [1], null);
  return table;
}

const METHODS = methods();

/** The gRPC method a path names, when it is one whose model the proxy reads. */
export function grpcMethod(path: string): GrpcMethod | null {
  return METHODS.get(path) ?? null;
}

const LENGTH_DELIMITED = 2;

/**
 * A string field, its length checked: protobufjs's Reader.string() on a Buffer clamps a length past the message's end
 * (a truncated or forged message would read as a shorter name); bytes() throws, as a malformed message should.
 */
function readString(reader: protobuf.Reader): string {
  return Buffer.from(reader.bytes()).toString('utf8');
}

/** The `model` a google.api.HttpBody's JSON data (field 2) names, or null. */
function jsonBodyModel(httpBody: Uint8Array): string | null {
  const reader = protobuf.Reader.create(httpBody);
  let model: string | null = null;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ((2 << 3) | LENGTH_DELIMITED)) {
      const json = asObject(tryParseJson(readString(reader)));
      model = typeof json.model === 'string' && json.model !== '' ? json.model : null;
    } else reader.skipType(tag & 7);
  }
  return model;
}

/**
 * The model a request message names: its JSON body's, for a method that has one, else the first of its fields set;
 * null when it names none. Throws on a malformed message.
 */
export function requestModel(message: Uint8Array, method: Pick<GrpcMethod, 'modelFields' | 'jsonBody'>): string | null {
  const fields = method.modelFields;
  const found = new Map<number, string>();
  let bodyModel: string | null = null;
  const reader = protobuf.Reader.create(message);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) === LENGTH_DELIMITED && field === method.jsonBody) bodyModel = jsonBodyModel(reader.bytes()) ?? bodyModel;
    else if ((tag & 7) === LENGTH_DELIMITED && fields.includes(field)) found.set(field, readString(reader));
    else reader.skipType(tag & 7);
  }
  if (bodyModel !== null) return googleModelId(bodyModel);
  for (const field of fields) {
    const name = found.get(field);
    if (name !== undefined && name !== '') return googleModelId(name);
  }
  return null;
}

/** The usage and model version an answer message reports (usage null when it has no usage_metadata). */
export function responseFigures(message: Uint8Array, layout: ResponseLayout): { usage: Usage | null; model: string | null } {
  const reader = protobuf.Reader.create(message);
  let usage: Usage | null = null;
  let model: string | null = null;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) === LENGTH_DELIMITED && field === layout.modelVersion) model = readString(reader) || null;
    else if ((tag & 7) === LENGTH_DELIMITED && field === layout.usageMetadata) {
      const end = reader.uint32() + reader.pos;
      if (end > reader.len) throw new RangeError('usage_metadata runs past the message');
      const counts: Record<string, number> = {};
      while (reader.pos < end) {
        const inner = reader.uint32();
        const number = inner >>> 3;
        const name =
          number === layout.prompt
            ? 'promptTokenCount'
            : number === layout.candidates
              ? 'candidatesTokenCount'
              : number === layout.thoughts
                ? 'thoughtsTokenCount'
                : number === layout.cached
                  ? 'cachedContentTokenCount'
                  : null;
        if (name !== null && (inner & 7) === 0) counts[name] = reader.int32();
        else reader.skipType(inner & 7);
      }
      // The JSON answer's names: read as Gemini's JSON usage is, so both wires count tokens alike.
      const read = geminiUsage(counts);
      // proto3 leaves zero counts out: usage_metadata present means the counts are reported, zeros included.
      usage = { ...read, reported: true };
    } else reader.skipType(tag & 7);
  }
  return { usage, model };
}

/** What the request's first message says: its model, or why it cannot be read (null when it could). */
export interface RequestRead {
  model: string | null;
  unreadable: UnreadableMessage | null;
}

/**
 * Reads a call's first request message as its bytes come (every method read here names its model there; a
 * bidirectional stream's first message does). `push` says when it has what it needs; `read` settles then, or at `end`.
 */
export class FirstMessageReader {
  readonly read: Promise<RequestRead>;
  private readonly method: GrpcMethod;
  private readonly encoding: string;
  private readonly maxBytes: number;
  private readonly framer: GrpcFramer;
  private first: { message: Buffer; compressed: boolean } | null;
  private settle: ((read: Promise<RequestRead>) => void) | null;

  constructor(method: GrpcMethod, encoding: string, maxBytes: number) {
    this.method = method;
    this.encoding = encoding;
    this.maxBytes = maxBytes;
    this.first = null;
    this.settle = null;
    this.read = new Promise<RequestRead>((resolve) => (this.settle = (read) => resolve(read)));
    this.framer = new GrpcFramer(maxBytes, (message, compressed) => (this.first ??= { message, compressed }));
  }

  get done(): boolean {
    return this.settle === null;
  }

  /** Takes a chunk of the request; true once the first message is read (or cannot be), when no more are needed. */
  push(chunk: Buffer): boolean {
    if (this.done) return true;
    this.framer.push(chunk);
    if (this.first === null && !this.framer.oversized) return false;
    this.end();
    return true;
  }

  /** The request is over (or cut short): what was read is all there is. */
  end(): void {
    const settle = this.settle;
    if (settle === null) return;
    this.settle = null;
    settle(this.decode());
  }

  private async decode(): Promise<RequestRead> {
    if (this.first === null) {
      if (this.framer.oversized) return { model: null, unreadable: 'too_large' };
      // A request cut inside its first message cannot be read; one with no message at all names nothing.
      return { model: null, unreadable: this.framer.partial ? 'undecodable' : null };
    }
    const bytes = await grpcMessage(this.first.message, this.first.compressed, this.encoding, this.maxBytes);
    if (typeof bytes === 'string') return { model: null, unreadable: bytes };
    try {
      return { model: requestModel(bytes, this.method), unreadable: null };
    } catch {
      return { model: null, unreadable: 'undecodable' };
    }
  }
}

/** What was read of a gRPC answer: its model version and its usage (the last message's that reports it). */
export interface AnswerRead {
  model: string | null;
  usage: Usage | null;
  unparsed: boolean;
}

/** Reads a gRPC answer's messages as they pass; only for methods whose answer carries usage (`layout`). */
export class GrpcAnswerReader {
  private readonly layout: ResponseLayout | null;
  private readonly encoding: string;
  private readonly maxBytes: number;
  private readonly framer: GrpcFramer;
  /** Compressed messages are undone in turn, off the relay's path; end() waits for them. */
  private pending: Promise<void>;
  private model: string | null;
  private usage: Usage | null;
  private failed: boolean;

  constructor(method: GrpcMethod | null, encoding: string, maxBytes: number) {
    this.layout = method?.response ?? null;
    this.encoding = encoding;
    this.maxBytes = maxBytes;
    this.pending = Promise.resolve();
    this.model = null;
    this.usage = null;
    this.failed = false;
    this.framer = new GrpcFramer(maxBytes, (message, compressed) => {
      if (!compressed) this.take(message);
      else {
        this.pending = this.pending.then(async () => {
          const bytes = await grpcMessage(message, true, this.encoding, this.maxBytes);
          if (typeof bytes === 'string') this.failed = true;
          else this.take(bytes);
        });
      }
    });
  }

  push(chunk: Buffer): void {
    if (this.layout !== null && !this.failed) this.framer.push(chunk);
  }

  async end(): Promise<AnswerRead> {
    await this.pending;
    const failed = this.failed || this.framer.oversized;
    return { model: this.model, usage: this.usage, unparsed: failed && this.usage === null };
  }

  private take(message: Buffer): void {
    try {
      const figures = responseFigures(message, this.layout!);
      if (figures.usage !== null) this.usage = figures.usage;
      if (figures.model !== null) this.model = figures.model;
    } catch {
      this.failed = true;
    }
  }
}
