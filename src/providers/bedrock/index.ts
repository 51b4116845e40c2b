// The `bedrock` provider: AWS Bedrock's Converse and ConverseStream APIs, signed with SigV4; with `api: messages`,
// Anthropic's Messages API on bedrock-mantle (messages.ts).
import type { ProviderSettings } from '../settings.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import type { ChatExchange, EmbeddingsExchange } from '../../wire/exchange.js';
import type { Feature, Provider } from '../provider.js';
import { converseFaultOf } from '../../wire/answer-fault.js';
import { loadAwsEventStreamCodec } from '../../wire/aws-event-stream.js';
import { claudeModelFeatures } from '../shared/claude-models.js';
import { jsonAnswerTool, withJsonAnswer } from '../shared/json-answer-tool.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';
import { BedrockSigner, resolveCredentials } from './auth.js';
import { bedrockEmbeddingsBody, bedrockEmbeddingsInputsPerCall, bedrockEmbeddingsResponse } from './embeddings.js';
import { bedrockFailure } from './errors.js';
import { bedrockConverseBody } from './request.js';
import { bedrockChatResponse } from './response.js';
import { createBedrockMessagesProvider } from './messages.js';
import { BedrockStreamDecoder } from './stream.js';

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

export function createBedrockProvider(name: string, config: ProviderSettings, secrets: ProviderSecrets): Provider {
  const region = config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (config.api === 'messages') return createBedrockMessagesProvider(name, config, secrets, region);
  // Its streams' codec, loaded now rather than by the first streamed call.
  loadAwsEventStreamCodec();
  const url = new URL(config.baseUrl ?? `https://bedrock-runtime.${region}.amazonaws.com`);
  const prefix = url.pathname.replace(/\/+$/, '');
  const signer = new BedrockSigner(name, url, region, resolveCredentials(config, region, secrets));
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...config.headers };
  const streamHeaders = { ...headers, accept: 'application/vnd.amazon.eventstream' };
  return {
    name,
    type: 'bedrock',
    origin: url.origin,
    features: FEATURES,
    streamFraming: 'aws-event-stream',
    // Model ids hold ':' (anthropic.claude-3-5-haiku-20241022-v1:0): encoded once here, as AWS's own SDKs do.
    openChat: (request: ChatRequest, modelId: string): ChatExchange => {
      const answer = jsonAnswerTool(request);
      const stops = request.stop ?? [];
      const exchange: ChatExchange = {
        provider: name,
        request: {
          path: `${prefix}/model/${encodeURIComponent(modelId)}/${request.stream ? 'converse-stream' : 'converse'}`,
          headers: request.stream ? streamHeaders : headers,
          body: JSON.stringify(bedrockConverseBody(request, answer, claudeModelFeatures(modelId, 'bedrock'), modelId)),
        },
        passThrough: null,
        // The stop sequences sent, to say which ended an answer where the model's answer does not.
        response: (body: unknown) => bedrockChatResponse(body, '', stops),
        answerFault: converseFaultOf,
        streamDecoder: () => new BedrockStreamDecoder(crypto.randomUUID(), stops),
        failure: bedrockFailure,
      };
      return answer === null ? exchange : withJsonAnswer(exchange, answer);
    },
    openEmbeddings: (request: EmbeddingsRequest, modelId: string): EmbeddingsExchange => ({
      provider: name,
      request: {
        path: `${prefix}/model/${encodeURIComponent(modelId)}/invoke`,
        headers,
        body: JSON.stringify(bedrockEmbeddingsBody(request, modelId)),
      },
      passThrough: null,
      response: bedrockEmbeddingsResponse,
      failure: bedrockFailure,
    }),
    embeddingsInputsPerCall: bedrockEmbeddingsInputsPerCall,
    authorize: (request) => signer.sign(request),
  };
}
