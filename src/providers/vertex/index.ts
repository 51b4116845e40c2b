// The `vertex` provider: Gemini models on Google Vertex AI, Anthropic models there through rawPredict, and the text
// embedding models through predict, authorized with a service account's OAuth token. Chat's translation is the gemini
// and anthropic adapters' own.
import type { ProviderSettings } from '../settings.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import type { ChatExchange, EmbeddingsExchange, UpstreamRequest } from '../../wire/exchange.js';
import { anthropicChatExchange } from '../anthropic/exchange.js';
import { anthropicRequestBody } from '../anthropic/request.js';
import { claudeModelFeatures } from '../shared/claude-models.js';
import { jsonAnswerTool, withJsonAnswer } from '../shared/json-answer-tool.js';
import { geminiFailure } from '../gemini/errors.js';
import { geminiChatExchange } from '../gemini/exchange.js';
import { geminiChatBody } from '../gemini/request.js';
import type { Feature, Provider } from '../provider.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';
import { VertexTokenSource } from './auth.js';
import {
  vertexEmbeddingsBody,
  vertexEmbeddingsInputsPerCall,
  vertexEmbeddingsResponse,
  vertexEmbeddingsTokensPerCall,
} from './embeddings.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'chat',
  'stream',
  'tools',
  'images',
  'text_documents',
  'json_mode',
  'json_schema',
  'embeddings',
]);
/** The anthropic_version Vertex expects in the body of Claude calls. */
const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** Claude models are published by Anthropic on Vertex and speak its Messages API. */
function isClaude(model: string): boolean {
  return model.startsWith('claude');
}

export function createVertexProvider(name: string, config: ProviderSettings, secrets: ProviderSecrets): Provider {
  const location = config.location ?? 'us-central1';
  const url = new URL(
    config.baseUrl ?? (location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`),
  );
  const tokens = new VertexTokenSource(config, secrets);
  const headers = { 'content-type': 'application/json', ...config.headers };
  // The project may come from the service account, read on first use; paths name it, so they are completed then.
  const PROJECT = '{project}';
  const modelPath = (publisher: string, model: string, method: string) =>
    `${url.pathname.replace(/\/+$/, '')}/v1/projects/${PROJECT}/locations/${location}/publishers/${publisher}/models/${encodeURIComponent(model)}:${method}`;
  return {
    name,
    type: 'vertex',
    origin: url.origin,
    features: FEATURES,
    // The target's model says which wire the exchange speaks: Anthropic's for Claude, Gemini's for the rest.
    openChat: (request: ChatRequest, model: string): ChatExchange => {
      if (isClaude(model)) {
        // Vertex names the model in the path and wants its own anthropic_version in the body.
        const answer = jsonAnswerTool(request);
        const body: Record<string, unknown> = {
          ...(anthropicRequestBody(request, model, null, answer, claudeModelFeatures(model, 'vertex')) as Record<string, unknown>),
          anthropic_version: VERTEX_ANTHROPIC_VERSION,
        };
        delete body.model;
        const path = modelPath('anthropic', model, request.stream ? 'streamRawPredict' : 'rawPredict');
        const exchange = anthropicChatExchange(name, { path, headers, body: JSON.stringify(body) }, false);
        return answer === null ? exchange : withJsonAnswer(exchange, answer);
      }
      return geminiChatExchange(name, {
        path: modelPath('google', model, request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'),
        headers,
        body: JSON.stringify(geminiChatBody(request, model)),
      });
    },
    // Vertex's errors are Google's ({error: {code, message, status}}), as Gemini's.
    openEmbeddings: (request: EmbeddingsRequest, model: string): EmbeddingsExchange => ({
      provider: name,
      request: { path: modelPath('google', model, 'predict'), headers, body: JSON.stringify(vertexEmbeddingsBody(request)) },
      passThrough: null,
      response: vertexEmbeddingsResponse,
      failure: geminiFailure,
    }),
    embeddingsInputsPerCall: vertexEmbeddingsInputsPerCall,
    embeddingsTokensPerCall: vertexEmbeddingsTokensPerCall,
    authorize: async (request: UpstreamRequest) => {
      const [token, project] = await Promise.all([tokens.accessToken(), tokens.projectId()]);
      if (project === undefined)
        throw new Error(`provider ${name} (vertex) has no project: set project or use a service account that names one`);
      return {
        path: request.path.replace(PROJECT, encodeURIComponent(project)),
        headers: { ...request.headers, authorization: `Bearer ${token}` },
        body: request.body,
      };
    },
  };
}
