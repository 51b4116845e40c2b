// The `vertex` provider: Gemini models on Google Vertex AI, and Anthropic models there through rawPredict,
// authorized with a service account's OAuth token. Translation is the gemini and anthropic adapters' own.
import type { ProviderConfig } from '../../config/schema.js';
import { SluiceError } from '../../errors.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import { anthropicRequestBody } from '../anthropic/request.js';
import { anthropicChatResponse } from '../anthropic/response.js';
import { AnthropicStreamDecoder } from '../anthropic/stream.js';
import { anthropicFailure } from '../anthropic/errors.js';
import { geminiFailure } from '../gemini/errors.js';
import { geminiChatBody } from '../gemini/request.js';
import { geminiChatResponse } from '../gemini/response.js';
import { GeminiStreamDecoder } from '../gemini/stream.js';
import type { Feature, Provider, UpstreamRequest } from '../provider.js';
import { asObject } from '../shared/json.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';
import { VertexTokenSource } from './auth.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>(['chat', 'stream', 'tools', 'images', 'json_mode', 'json_schema']);
/** The anthropic_version Vertex expects in the body of Claude calls. */
const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** Claude models are published by Anthropic on Vertex and speak its Messages API. */
function isClaude(model: string): boolean {
  return model.startsWith('claude');
}

export function createVertexProvider(name: string, config: ProviderConfig, secrets: ProviderSecrets): Provider {
  const location = config.location ?? 'us-central1';
  const url = new URL(config.baseUrl ?? (location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`));
  const tokens = new VertexTokenSource(config, secrets);
  const headers = { 'content-type': 'application/json', ...config.headers };
  // The project may come from the service account, read on first use; paths name it, so they are completed then.
  const PROJECT = '{project}';
  const modelPath = (publisher: string, model: string, method: string) =>
    `${url.pathname.replace(/\/+$/, '')}/v1/projects/${PROJECT}/locations/${location}/publishers/${publisher}/models/${encodeURIComponent(model)}:${method}`;
  const noEmbeddings = (): never => {
    throw new SluiceError('unsupported_by_provider', `Provider ${name} (vertex) does not offer embeddings through Sluice yet.`, { param: 'model' });
  };
  return {
    name,
    type: 'vertex',
    dialect: null,
    origin: url.origin,
    features: FEATURES,
    chatRequest: (request: ChatRequest, model: string) => {
      if (isClaude(model)) {
        // Vertex names the model in the path and wants its own anthropic_version in the body.
        const body: Record<string, unknown> = { ...(anthropicRequestBody(request, model, null) as Record<string, unknown>), anthropic_version: VERTEX_ANTHROPIC_VERSION };
        delete body.model;
        return { path: modelPath('anthropic', model, request.stream ? 'streamRawPredict' : 'rawPredict'), headers, body: JSON.stringify(body) };
      }
      return {
        path: modelPath('google', model, request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'),
        headers,
        body: JSON.stringify(geminiChatBody(request)),
      };
    },
    // Claude answers carry "type":"message"; Gemini answers carry candidates.
    chatResponse: (body: unknown) => (asObject(body).type === 'message' ? anthropicChatResponse(body) : geminiChatResponse(body)),
    chatStreamDecoder: () => new VertexStreamDecoder(),
    embeddingsRequest: noEmbeddings,
    embeddingsResponse: noEmbeddings,
    upstreamFailure: (status, text, responseHeaders) =>
      (text.includes('"type":"error"') ? anthropicFailure : geminiFailure)(status, text, responseHeaders),
    authorize: async (request: UpstreamRequest) => {
      const [token, project] = await Promise.all([tokens.accessToken(), tokens.projectId()]);
      if (project === undefined) throw new Error(`provider ${name} (vertex) has no project: set project or use a service account that names one`);
      return {
        path: request.path.replace(PROJECT, encodeURIComponent(project)),
        headers: { ...request.headers, authorization: `Bearer ${token}` },
        body: request.body,
      };
    },
  };
}

/** A Vertex stream is Gemini's or Anthropic's SSE; the first event says which, and its decoder takes over. */
class VertexStreamDecoder implements StreamDecoder {
  private inner: GeminiStreamDecoder | AnthropicStreamDecoder | null;
  private pending: Buffer[];

  constructor() {
    this.inner = null;
    this.pending = [];
  }

  push(chunk: Buffer): StreamEvent[] {
    if (this.inner === null) {
      this.pending.push(chunk);
      const seen = Buffer.concat(this.pending).toString('utf8');
      if (!seen.includes('data:')) return [];
      this.inner = seen.includes('"type":"message_start"') || seen.includes('event: message_start') ? new AnthropicStreamDecoder() : new GeminiStreamDecoder();
      const buffered = Buffer.concat(this.pending);
      this.pending = [];
      return this.inner.push(buffered);
    }
    return this.inner.push(chunk);
  }

  end(): StreamEvent[] {
    if (this.inner === null) return [];
    return this.inner.end();
  }
}
