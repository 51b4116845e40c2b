// The contract every provider adapter fulfils: pure translations between the IR and its wire, plus its credentials.
import type { ChatRequest, ChatResponse } from '../ir/chat.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../ir/embeddings.js';
import type { StreamDecoder } from '../ir/stream.js';
import type { ProviderConfig } from '../config/schema.js';
import type { ProviderSecrets } from './shared/secret-redactor.js';

/** The client-facing API shapes Sluice speaks; a provider that speaks one natively gets the client's body passed through. */
export type Dialect = 'openai' | 'anthropic';

/** The client's own parsed body, offered to a provider of the same dialect so it can change only what it must. */
export interface ClientBody {
  dialect: Dialect;
  body: Record<string, unknown>;
}

export interface UpstreamRequest {
  /** Path and query, relative to the provider's origin. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What a provider makes of an upstream error response: the message to pass on and whether another try may succeed. */
export interface UpstreamFailure {
  status: number;
  message: string;
  retryable: boolean;
  /** Seconds the provider asked to wait, from Retry-After. */
  retryAfterSeconds?: number;
}

export type StreamFraming = 'sse' | 'aws-event-stream';

export type Feature = 'chat' | 'stream' | 'tools' | 'images' | 'json_mode' | 'json_schema' | 'embeddings';

export interface Provider {
  /** The name given in sluice.yaml. */
  readonly name: string;
  readonly type: ProviderConfig['type'];
  /** The client dialect this provider speaks natively, if any. */
  readonly dialect: Dialect | null;
  /** scheme://host:port of every upstream request. */
  readonly origin: string;
  readonly features: ReadonlySet<Feature>;
  /** How a streamed answer is framed: server-sent events unless said otherwise (Bedrock's AWS event stream). */
  readonly streamFraming?: StreamFraming;

  chatRequest(request: ChatRequest, targetModel: string, client: ClientBody | null): UpstreamRequest;
  chatResponse(body: unknown): ChatResponse;
  chatStreamDecoder(): StreamDecoder;
  embeddingsRequest(request: EmbeddingsRequest, targetModel: string, client: ClientBody | null): UpstreamRequest;
  embeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse;
  upstreamFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure;
  /**
   * The most embedding inputs one upstream call to `targetModel` takes (Bedrock Titan: 1); absent or undefined: no limit
   * Sluice knows of. A longer list is fanned out over several calls and the answers put back together in order.
   */
  embeddingsInputsPerCall?(targetModel: string): number | undefined;
  /**
   * The provider's own token counting for an Anthropic Messages body (the client's, the model renamed): Anthropic's
   * POST /v1/messages/count_tokens. Absent where the provider has no such endpoint; Sluice then estimates.
   */
  countTokensRequest?(body: Record<string, unknown>, targetModel: string): UpstreamRequest;
  /** Per-attempt credentials that depend on the moment (AWS SigV4 signatures, OAuth tokens); absent for static keys. */
  authorize?(request: UpstreamRequest): Promise<UpstreamRequest>;
}

/** `secrets` holds the config's credentials; a provider that obtains more at runtime (tokens, assumed roles) adds them there. */
export type ProviderFactory = (name: string, config: ProviderConfig, secrets: ProviderSecrets) => Provider;
