// The `bedrock` provider with `api: messages`: Anthropic's Messages API on Bedrock's bedrock-mantle endpoint
// (POST {base}/v1/messages, base https://bedrock-mantle.{region}.api.aws/anthropic), the way to the Claude models that
// have no ARN-versioned id for Converse (Claude Opus 4.7 and later). The model goes in the body, `anthropic-version` in a
// header, streams come as Anthropic's server-sent events; requests are SigV4-signed for the service "bedrock-mantle", or
// carry a Bedrock API key as a bearer token. As Anthropic's own AnthropicBedrockMantle clients do:
// https://docs.aws.amazon.com/bedrock/latest/userguide/inference-messages-api.html,
// github.com/anthropics/anthropic-sdk-typescript packages/bedrock-sdk/src/mantle-client.ts.
// The body, the answer and the stream are the Anthropic provider's: its translators and its pass-through are reused.
import type { ProviderSettings } from '../settings.js';
import { SluiceError } from '../../errors.js';
import type { ChatExchange } from '../../wire/exchange.js';
import type { Feature, Provider } from '../provider.js';
import { anthropicHeaders } from '../anthropic/auth.js';
import { openAnthropicChat } from '../anthropic/exchange.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';
import { BedrockSigner, resolveCredentials } from './auth.js';
import { bedrockMessagesFailure } from './errors.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'chat',
  'stream',
  'tools',
  'images',
  'text_documents',
  'json_mode',
  'json_schema',
]);

/** The SigV4 signing name of bedrock-mantle. */
const MANTLE_SERVICE = 'bedrock-mantle';

export function createBedrockMessagesProvider(name: string, config: ProviderSettings, secrets: ProviderSecrets, region: string): Provider {
  const base = new URL(config.baseUrl ?? `https://bedrock-mantle.${region}.api.aws/anthropic`);
  const path = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
  // Anthropic's headers (anthropic-version, the configured ones) without x-api-key: a Bedrock API key goes as a bearer
  // token, and then nothing is signed.
  const headers = anthropicHeaders({ ...config, apiKey: undefined });
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  const signer = config.apiKey ? null : new BedrockSigner(name, base, region, resolveCredentials(config, region, secrets), MANTLE_SERVICE);
  return {
    name,
    type: 'bedrock',
    origin: base.origin,
    features: FEATURES,
    openChat: (request, model, client): ChatExchange => {
      const exchange = openAnthropicChat(name, path, headers, request, model, client, 'bedrock');
      return { ...exchange, failure: bedrockMessagesFailure(exchange.passThrough !== null) };
    },
    openEmbeddings: () => {
      throw new SluiceError(
        'unsupported_by_provider',
        `Provider ${name} (bedrock, api: messages) does not offer embeddings: give them a bedrock provider with the Converse API.`,
        { param: 'model' },
      );
    },
    ...(signer !== null && { authorize: (request) => signer.sign(request) }),
  };
}
