// The OTLP/HTTP intake (POST /v1/traces, protobuf or JSON): for teams that already instrument, spans carrying the
// OpenTelemetry GenAI semantic conventions become observations, like the calls the proxy sees. Protobuf is decoded with
// the official OTLP definitions (the protobufjs module generated from opentelemetry-proto that
// @opentelemetry/otlp-transformer ships); JSON is OTLP's JSON mapping of the same messages.
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { costNanoUsd } from '../metering/cost.js';
import { decodeContent } from '../wire/content-coding.js';
import type { PriceCatalog } from '../metering/price-catalog.js';
import { normalizeIp, type ObservationSource } from '../policy/discovery.js';
import type { DiscoveryMetrics } from './metrics.js';
import type { SeenCall } from './report.js';

interface ProtoMessage {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
interface OtlpRoot {
  opentelemetry: {
    proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoMessage; ExportTraceServiceResponse: ProtoMessage } } } };
  };
}
const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as OtlpRoot;
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface Span {
  name?: string;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
}
interface TracesData {
  resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Span[] }> }>;
}

/** gen_ai.system / gen_ai.provider.name values, as Sluice names providers. */
const PROVIDER_NAMES: Record<string, string> = {
  'aws.bedrock': 'bedrock',
  'gcp.gemini': 'gemini',
  'gcp.vertex_ai': 'vertex',
  'gcp.gen_ai': 'gemini',
  'az.ai.openai': 'azure-openai',
  'azure.ai.openai': 'azure-openai',
  'az.ai.inference': 'azure-ai-inference',
  'azure.ai.inference': 'azure-ai-inference',
  mistral_ai: 'mistral',
  x_ai: 'xai',
};

/** OTLP JSON is parsed, not decoded against the schema: a field that should be a list of messages is checked here. */
function messages<T>(value: T[] | undefined, field: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'object' || item === null)) {
    throw new Error(`${field} is not a list of messages`);
  }
  return value;
}

function attributes(list: KeyValue[] | undefined): Map<string, string | number | boolean> {
  const out = new Map<string, string | number | boolean>();
  for (const item of messages(list, 'attributes')) {
    const value = item.value;
    if (typeof value !== 'object' || value === null) continue;
    if (value.stringValue !== undefined) out.set(item.key, value.stringValue);
    else if (value.intValue !== undefined) out.set(item.key, Number(value.intValue));
    else if (value.doubleValue !== undefined) out.set(item.key, value.doubleValue);
    else if (value.boolValue !== undefined) out.set(item.key, value.boolValue);
  }
  return out;
}

function text(value: string | number | boolean | undefined, max = 200): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clean = value
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, max);
  return clean === '' ? undefined : clean;
}

function tokens(value: string | number | boolean | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

/**
 * The GenAI calls among a request's spans; spans without a provider and a model are not AI calls and are skipped.
 * Throws when the request is not in OTLP's shape (a list that is not one).
 */
export function genAiCalls(data: TracesData, clientIp: string | undefined, prices: PriceCatalog): { calls: SeenCall[]; ignored: number } {
  const calls: SeenCall[] = [];
  let ignored = 0;
  const ip = clientIp === undefined ? null : normalizeIp(clientIp);
  for (const resourceSpans of messages(data.resourceSpans, 'resourceSpans')) {
    const resource = attributes(resourceSpans.resource?.attributes);
    const service = text(resource.get('service.name'));
    for (const scope of messages(resourceSpans.scopeSpans, 'scopeSpans')) {
      for (const span of messages(scope.spans, 'spans')) {
        const attrs = attributes(span.attributes);
        const system = text(attrs.get('gen_ai.provider.name')) ?? text(attrs.get('gen_ai.system'));
        const model = text(attrs.get('gen_ai.response.model'), 500) ?? text(attrs.get('gen_ai.request.model'), 500);
        if (system === undefined || model === undefined) {
          ignored++;
          continue;
        }
        const provider = (PROVIDER_NAMES[system] ?? system).replace(/[/\s]/g, '_');
        const requested = text(attrs.get('gen_ai.request.model'), 500) ?? model;
        const input = tokens(attrs.get('gen_ai.usage.input_tokens') ?? attrs.get('gen_ai.usage.prompt_tokens'));
        const output = tokens(attrs.get('gen_ai.usage.output_tokens') ?? attrs.get('gen_ai.usage.completion_tokens'));
        const source: ObservationSource = {};
        if (ip !== null) source.ip = ip;
        if (service !== undefined) source.service = service;
        const host = text(attrs.get('server.address'), 255);
        if (host !== undefined && /^[a-z0-9._:[\]-]+$/i.test(host)) source.host = host.toLowerCase();
        const cost =
          input === null && output === null
            ? null
            : costNanoUsd(
                { inputTokens: input ?? 0, outputTokens: output ?? 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true },
                prices.lookup(provider, model),
              );
        const end = Number(span.endTimeUnixNano ?? 0);
        calls.push({
          at: end > 0 ? Math.floor(end / 1e6) : Date.now(),
          source,
          provider,
          model: requested,
          inputTokens: input,
          outputTokens: output,
          costNanoUsd: cost,
        });
      }
    }
  }
  return { calls, ignored };
}

function answer(res: ServerResponse, status: number, protobuf: boolean, message?: string): void {
  if (status === 200) {
    const body = protobuf ? Buffer.from(ExportTraceServiceResponse.encode({}).finish()) : Buffer.from('{}');
    res.writeHead(200, { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json', 'content-length': String(body.length) });
    res.end(body);
    return;
  }
  // OTLP/HTTP answers failures with a google.rpc.Status; in JSON for every client here.
  const body = JSON.stringify({ code: status === 413 ? 8 : 3, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

async function readAll(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Handles POST /v1/traces; `record` takes each GenAI call found. */
export async function handleTraces(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
  prices: PriceCatalog,
  metrics: DiscoveryMetrics,
  record: (call: SeenCall) => void,
): Promise<void> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  const protobuf = type.startsWith('application/x-protobuf') || type.startsWith('application/protobuf');
  if (!protobuf && !type.startsWith('application/json')) {
    req.resume();
    answer(res, 415, false, 'OTLP/HTTP takes application/x-protobuf or application/json');
    return;
  }
  let data: TracesData;
  let found: ReturnType<typeof genAiCalls>;
  try {
    let body = await readAll(req, maxBytes);
    if (body === null) {
      answer(res, 413, protobuf, `an OTLP request of at most ${maxBytes} bytes`);
      req.destroy();
      return;
    }
    if (String(req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
      // Bounded inflated too: a few KiB of gzip can stand for gigabytes of zeros.
      const decoded = await decodeContent(['gzip'], body, maxBytes);
      if (decoded === 'too_large_decompressed') {
        answer(res, 413, protobuf, `an OTLP request of at most ${maxBytes} bytes once decompressed`);
        return;
      }
      if (typeof decoded === 'string') throw new Error('not gzip data');
      body = decoded;
    }
    data = protobuf
      ? (ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
          longs: String,
          bytes: String,
          defaults: false,
        }) as TracesData)
      : (JSON.parse(body.toString('utf8')) as TracesData);
    if (typeof data !== 'object' || data === null) throw new Error('not an ExportTraceServiceRequest');
    found = genAiCalls(data, req.socket.remoteAddress, prices);
  } catch (error) {
    answer(res, 400, protobuf, `not a valid OTLP ExportTraceServiceRequest: ${(error as Error).message.slice(0, 200)}`);
    return;
  }
  const { calls, ignored } = found;
  for (const call of calls) record(call);
  metrics.spans.inc({ result: 'observed' }, calls.length);
  metrics.spans.inc({ result: 'ignored' }, ignored);
  answer(res, 200, protobuf);
}
