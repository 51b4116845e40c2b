// What a provider adapter reads of its entry in sluice.yaml (or the director's provider record). The config owns the
// validation (config/schema.ts' providerSchema, which must produce this shape); providers import nothing of config, so
// config can take the provider types from the registry without an import cycle.

export interface ProviderSettings {
  /** A name of the provider registry (providers/registry.ts). */
  readonly type: string;
  readonly baseUrl?: string | undefined;
  readonly apiKey?: string | undefined;
  /** Bedrock: the AWS region and credentials. */
  readonly region?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
  /**
   * Bedrock: the API it calls. `converse` (the default): bedrock-runtime's Converse, ConverseStream and InvokeModel.
   * `messages`: Anthropic's Messages API on bedrock-mantle, the only way to the Claude models that have no
   * ARN-versioned id (Claude Opus 4.7 and later).
   */
  readonly api?: 'converse' | 'messages' | undefined;
  /** Vertex: the Google Cloud project, the location and the service account key. */
  readonly project?: string | undefined;
  readonly location?: string | undefined;
  readonly serviceAccountFile?: string | undefined;
  readonly serviceAccountJson?: string | undefined;
  /** Azure OpenAI's api-version query parameter. */
  readonly apiVersion?: string | undefined;
  /** Anthropic's anthropic-version header. */
  readonly anthropicVersion?: string | undefined;
  /** Extra headers sent on every upstream request. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Pooled connections per upstream origin. */
  readonly connections: number;
}
