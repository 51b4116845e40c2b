// The contract every provider adapter fulfils: it opens each call's exchange (its wire, its answers), plus its credentials.
import type { ChatRequest } from '../ir/chat.js';
import type { EmbeddingsRequest } from '../ir/embeddings.js';
import type { Usage } from '../ir/usage.js';
import type { ChatExchange, ClientBody, EmbeddingsExchange, StreamFraming, UpstreamRequest } from '../wire/exchange.js';

/** A token counting call's exchange: the request, and how to read a failure. */
export type CountTokensExchange = Pick<ChatExchange, 'provider' | 'request' | 'failure'>;
import type { ProviderSecrets } from './shared/secret-redactor.js';
import type { ProviderSettings } from './settings.js';

/** A provider's token limits on one embeddings call (Provider.embeddingsTokensPerCall). */
export interface EmbeddingsTokenLimits {
  perCall: number;
  /** An input over it is refused whatever the call holds: it counts as this many at most. */
  perInput: number;
}

/** `text_documents`: plain-text documents (Anthropic's `source.type: "text"`), which OpenAI's file inputs cannot carry. */
export type Feature = 'chat' | 'stream' | 'tools' | 'images' | 'text_documents' | 'json_mode' | 'json_schema' | 'embeddings';

/** What a client may do with a response the provider stored (OpenAI's Responses API). */
export type StoredResponseAction = 'retrieve' | 'delete' | 'cancel' | 'input_items';

/** The upstream request of such an action: no body; the answer goes back to the client as it is. */
export interface StoredResponseRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, relative to the provider's origin. */
  path: string;
  headers: Record<string, string>;
}

export interface Provider {
  /** The name given in sluice.yaml. */
  readonly name: string;
  /** Its type: a name of the provider registry. */
  readonly type: string;
  /** scheme://host:port of every upstream request. */
  readonly origin: string;
  readonly features: ReadonlySet<Feature>;
  /** How a streamed answer is framed: server-sent events unless said otherwise (Bedrock's AWS event stream). */
  readonly streamFraming?: StreamFraming;

  /**
   * The exchange of one chat call with `model`, this provider's name for the target model. `client`: the client's own
   * body, which a provider speaking the client's dialect passes through (changing only what it must). Pure: never
   * mutates its inputs, as retries and fallbacks reuse them. Throws SluiceError('unsupported_by_provider') for a request
   * it cannot express.
   */
  /** `baseModel`: the model `model` serves where `model` is the customer's own name for it (an Azure OpenAI deployment). */
  openChat(request: ChatRequest, model: string, client: ClientBody | null, baseModel?: string): ChatExchange;
  openEmbeddings(request: EmbeddingsRequest, model: string, client: ClientBody | null): EmbeddingsExchange;
  /**
   * The most embedding inputs one upstream call to `model` takes (Bedrock Titan: 1); absent or undefined: no limit
   * Sluice knows of. A longer list is fanned out over several calls and the answers put back together in order.
   */
  embeddingsInputsPerCall?(model: string): number | undefined;
  /**
   * The most tokens one upstream call to `model` takes in all its inputs, and in any one of them (Vertex's
   * text-embedding-005: 20,000 and 2,048); absent or undefined: no such limit Sluice knows of. A list over it is fanned
   * out too, each call packed under it by a bound of its inputs' tokens that needs no tokenizer of the provider's.
   */
  embeddingsTokensPerCall?(model: string): EmbeddingsTokenLimits | undefined;
  /**
   * The provider's own token counting for an Anthropic Messages body (the client's, the model renamed): Anthropic's
   * POST /v1/messages/count_tokens. Absent where the provider has no such endpoint; Sluice then estimates. `betas`: the
   * client's anthropic-beta header.
   */
  openCountTokens?(body: Record<string, unknown>, model: string, betas: string | undefined): CountTokensExchange;
  /**
   * The request for an action on a response this provider stored (GET, DELETE /responses/{id}, its cancel and
   * input_items), with the provider's credentials; `query` (`?...` or '') is the client's, passed on. Absent where the
   * provider keeps no responses.
   */
  openStoredResponse?(id: string, action: StoredResponseAction, query: string): StoredResponseRequest;
  /**
   * What a stored response object says it used (a background response's, once it has ended). Present where
   * openStoredResponse is.
   */
  storedResponseUsage?(response: Record<string, unknown>): Usage;
  /** Per-attempt credentials that depend on the moment (AWS SigV4 signatures, OAuth tokens); absent for static keys. */
  authorize?(request: UpstreamRequest): Promise<UpstreamRequest>;
}

/** `secrets` holds the config's credentials; a provider that obtains more at runtime (tokens, assumed roles) adds them there. */
export type ProviderFactory = (name: string, config: ProviderSettings, secrets: ProviderSecrets) => Provider;
