// The shape of sluice.yaml, validated once at start; defaults live here beside each field.
import { z } from 'zod';
import { COMPLIANCE_DEFAULTS, complianceSchema } from './compliance-schema.js';
import { keysSchema } from './keys-schema.js';
import { DISCOVERY_DEFAULTS, discoverySchema } from './discovery-schema.js';
import { governanceFields } from './governance-schema.js';
import { MCP_DEFAULTS, mcpSchema } from './mcp-schema.js';
import { CACHE_DEFAULTS, cacheSchema } from './cache-schema.js';
import { RESPONSES_DEFAULTS, responsesSchema } from './responses-schema.js';
import { guardrailSchema } from './guardrails-schema.js';
import { parseAllowEntry } from './provider-targets.js';
import { headersRecord, httpUrl, labelsRecord, nameText, ownerText, secretText, settingText, TEXT_LIMITS } from './limits.js';
import { identitySchema, tlsSchema } from './identity-schema.js';
import { PROVIDER_TYPES } from '../providers/registry.js';

const hostPort = (port: number) =>
  z
    .object({
      host: z.string().min(1).max(TEXT_LIMITS.setting).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(port),
    })
    .strict();

/** A service tier's token prices (OpenAI's priority and flex processing); cachedInput is the tier's input when absent. */
const tierPricing = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
  })
  .strict();

const pricing = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
    cacheWrite: z.number().nonnegative().optional(),
    /** Writes to a 1-hour prompt cache (Anthropic's `ttl: '1h'`); cacheWrite's price when absent. */
    cacheWrite1h: z.number().nonnegative().optional(),
    /** USD per 1M input characters, for a model its provider bills by the character (input then 0). */
    inputCharacters: z.number().nonnegative().optional(),
    /** USD per 1,000 searches of the provider's built-in web search tool; searches are not charged when absent. */
    webSearch: z.number().nonnegative().optional(),
    /** USD per 1,000 calls whose answer searched, once per call (Gemini 2.x's grounding with Google Search). */
    groundedPrompt: z.number().nonnegative().optional(),
    /** USD per 1,000 file searches of the provider's built-in file search tool; not charged when absent. */
    fileSearch: z.number().nonnegative().optional(),
    /** USD per 1,000 calls, billed on every call beside the tokens (a model that searches the web on every call). */
    request: z.number().nonnegative().optional(),
    /** Prices of every token of a call whose prompt is longer than `above` tokens (Gemini Pro past 200k and the like). */
    longContext: z
      .object({
        above: z.number().int().positive(),
        input: z.number().nonnegative(),
        output: z.number().nonnegative(),
        cachedInput: z.number().nonnegative().optional(),
        cacheWrite: z.number().nonnegative().optional(),
        cacheWrite1h: z.number().nonnegative().optional(),
      })
      .strict()
      .optional(),
    /** Prices of calls the provider served at its priority tier (the answer's `service_tier`); the standard ones when absent. */
    priority: tierPricing.optional(),
    /** Prices of calls served at its flex tier. */
    flex: tierPricing.optional(),
    /**
     * The multiple of every token price (input, output, cache reads and writes) a call pays when the answer says fast
     * mode served it (Anthropic's `speed: "fast"`); the standard prices when absent.
     */
    fastMode: z.number().min(1).optional(),
    /**
     * The multiple of every token price (long-context ones included) a call pays when the answer says the priority tier
     * served it and `priority` gives no prices (OpenAI's fast mode: 2x from GPT-6 on).
     */
    priorityMultiple: z.number().positive().optional(),
    /** Likewise for the flex tier (OpenAI's flex processing: 0.5x from GPT-6 on). */
    flexMultiple: z.number().positive().optional(),
  })
  .strict();

/**
 * 4 MiB: the largest bodies the director API takes are 1,000 observations or 10,000 key-use reports with every field at
 * its length limit (about 2.3 MB each); everything else is a few KB.
 */
export const ADMIN_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const providerSchema = z
  .object({
    /** One of the provider registry's types (providers/registry.ts). */
    type: z.enum(PROVIDER_TYPES),
    /** Required unless the type has a standard endpoint (bedrock, gemini, vertex), where it overrides that endpoint. */
    /** Never with user:password@: readers see base URLs, so credentials go in apiKey or headers, which they do not. */
    baseUrl: httpUrl()
      .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), 'a base URL carries no user:password@; put credentials in apiKey or headers')
      .optional(),
    apiKey: secretText().optional(),
    /** Bedrock: the AWS region, and credentials (else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN). */
    region: settingText().optional(),
    accessKeyId: settingText().optional(),
    secretAccessKey: secretText().optional(),
    sessionToken: secretText().optional(),
    /** Bedrock: `converse` (bedrock-runtime, the default) or `messages` (Anthropic's Messages API on bedrock-mantle). */
    api: z.enum(['converse', 'messages']).optional(),
    /** Vertex: the Google Cloud project (else the service account's), the location, and the service account key. */
    project: settingText().optional(),
    location: settingText().optional(),
    serviceAccountFile: z.string().max(TEXT_LIMITS.url).optional(),
    serviceAccountJson: z.string().max(TEXT_LIMITS.document).optional(),
    /** Azure OpenAI's api-version query parameter. */
    apiVersion: settingText().optional(),
    /** Anthropic's anthropic-version header. */
    anthropicVersion: settingText().optional(),
    /** Extra headers sent on every upstream request (e.g. an OpenAI organization). */
    headers: headersRecord().optional(),
    /** Pooled connections per upstream origin. */
    connections: z.number().int().positive().default(128),
  })
  .strict();

const target = z
  .object({
    provider: nameText(),
    model: z.string().min(1).max(TEXT_LIMITS.providerModel),
    /**
     * The model `model` serves where its name is the customer's own (an Azure OpenAI deployment `prod-chat` of `o3-mini`):
     * priced as that model, and sent only what it takes (reasoning effort, sampling, stop).
     */
    baseModel: z.string().min(1).max(TEXT_LIMITS.providerModel).optional(),
    /** Relative share of first attempts; targets without a weight are tried only as fallbacks when any has one. */
    weight: z.number().positive().optional(),
  })
  .strict();

/**
 * Per-attempt limits on waiting for an upstream. A non-streamed answer's head comes only once the whole answer is
 * generated, which for a long one takes minutes (the OpenAI and Anthropic SDKs wait up to 10): 5 minutes. A stream's
 * head comes before the first token, so a minute without one is an upstream that hangs. Between chunks, a reasoning
 * model may think in silence: 2 minutes. An attempt that times out goes to the next target without a retry.
 * A stream's whole length has no limit by default (maxStreamMs 0): how long a sound one runs is its model's longest answer
 * at its slowest speed (128,000 tokens at 20 a second is nearly two hours), and one cut there is paid for and lost.
 */
const RETRY_DEFAULTS = {
  attempts: 1,
  backoffMs: 100,
  timeoutMs: 300_000,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  maxStreamMs: 0,
};

/** Retry and timeout settings: routing.retry gives every one, a model's own `retry` overrides some of them. */
const retryFields = z
  .object({
    /** Extra attempts on the same target before falling back to the next (not after a timeout or a 429). */
    attempts: z.number().int().min(0).max(10),
    backoffMs: z.number().int().min(0),
    /**
     * The longest wait for any part of an answer, and the longest a non-streamed one may take in all: its head (sent once
     * it is generated) and its body.
     */
    timeoutMs: z.number().int().positive(),
    /** The longest wait for a streamed answer's head (capped by timeoutMs). */
    firstByteTimeoutMs: z.number().int().positive(),
    /** The longest silence between two chunks of an answer's body once its head has come (capped by timeoutMs). */
    idleTimeoutMs: z.number().int().positive(),
    /**
     * The longest a streamed answer may last, from its request on the connection to its end, however steadily it comes;
     * past it the upstream is cut and the client's stream ends in its API's error event. 0: no limit.
     */
    maxStreamMs: z.number().int().min(0, 'milliseconds, or 0 for no limit'),
  })
  .strict();

/** A model's override: no defaults of its own, so what it leaves out comes from routing.retry, not from these defaults. */
const retryOverride = retryFields.partial();
const retry = retryOverride.transform((given) => ({ ...RETRY_DEFAULTS, ...given }));

export const modelSchema = z
  .object({
    name: nameText(),
    targets: z.array(target).min(1).max(64),
    pricing: pricing.optional(),
    retry: retryOverride.optional(),
  })
  .strict();

const consumer = z
  .object({
    name: nameText(),
    team: nameText().optional(),
    owner: ownerText().optional(),
    keys: z.array(z.string().min(8, 'a key of at least 8 characters').max(TEXT_LIMITS.setting)).min(1).max(100),
    /** Model names this consumer may use; all when absent. */
    models: z.array(nameText()).max(TEXT_LIMITS.allowList).optional(),
    /** Free-form labels, matched by budget templates' selectors. */
    labels: labelsRecord().default({}),
  })
  .strict();

export const providerName = z
  .string()
  .max(TEXT_LIMITS.name)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lowercase name: a-z, 0-9, _ or -');

/**
 * The fields of a provider that are secrets: the director stores them sealed with the master key and never shows them
 * (a header may carry a token, so header values count too). Every other field is a setting, shown to readers.
 */
export const CREDENTIAL_FIELDS = ['apiKey', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'serviceAccountJson', 'headers'] as const;
export type CredentialField = (typeof CREDENTIAL_FIELDS)[number];

/**
 * The client side of the listener. Headers within 30 s (NGINX allows 60 s): clients send them at once, a slow one is
 * holding a connection. A whole request within 120 s still lets a 10 MB body arrive at 85 KB/s. 65 s of keep-alive
 * outlasts the 60 s idle timeout of the load balancers in front (AWS ALB), so the gateway is never the side closing a
 * connection the balancer is about to reuse. 4,096 connections: a flood of them is turned away at accept rather than
 * taking every file descriptor the upstream pools also need.
 */
const GATEWAY_DEFAULTS = {
  maxBodyBytes: 10 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 4096,
};

/** The most workers `sluice start --workers N` runs. */
export const MAX_WORKERS = 256;

export const configSchema = z
  .object({
    gateway: hostPort(4000)
      .extend({
        maxBodyBytes: z.number().int().positive().default(GATEWAY_DEFAULTS.maxBodyBytes),
        /**
         * The longest a client may take to send a request's headers, from its first byte or from connecting (capped by
         * requestTimeoutMs).
         */
        headersTimeoutMs: z.number().int().positive().default(GATEWAY_DEFAULTS.headersTimeoutMs),
        /** The longest a client may take to send a whole request, headers and body; the answer is not counted. */
        requestTimeoutMs: z.number().int().positive().default(GATEWAY_DEFAULTS.requestTimeoutMs),
        /** How long a kept-alive client connection may sit idle between requests. */
        keepAliveTimeoutMs: z.number().int().positive().default(GATEWAY_DEFAULTS.keepAliveTimeoutMs),
        /** Client connections open at once; past it, new ones are closed as they are accepted. */
        maxConnections: z.number().int().positive().default(GATEWAY_DEFAULTS.maxConnections),
        /** HTTPS (and mTLS with a client CA) on the gateway listener; plain HTTP when absent. */
        tls: tlsSchema.optional(),
        /** Processes serving the listeners (`sluice start --workers N`, SLUICE_WORKERS); absent: one per available core. */
        workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 4000, ...GATEWAY_DEFAULTS }),
    admin: hostPort(4001)
      .extend({
        /** The bootstrap admin token of the director API (e.g. "${SLUICE_ADMIN_TOKEN}"); generated into the data folder when absent. */
        token: z.string().min(16, 'a token of at least 16 characters').max(TEXT_LIMITS.setting).optional(),
        /** Director API request bodies larger than this are refused with 413; the default holds the largest intake allowed. */
        maxBodyBytes: z.number().int().positive().default(ADMIN_MAX_BODY_BYTES),
        /** HTTPS on the admin listener; plain HTTP when absent. */
        tls: tlsSchema.optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 4001, maxBodyBytes: ADMIN_MAX_BODY_BYTES }),
    /** The ledger's and the director's database: an embedded SQLite file, or PostgreSQL (shared by every gateway). */
    storage: z
      .string()
      .max(TEXT_LIMITS.url)
      .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite:<path> or postgres://user@host:port/database')
      .default('sqlite:./data/sluice.db'),
    ledger: z
      .object({
        /** How long records wait in memory before a batch is written. */
        flushIntervalMs: z.number().int().positive().default(200),
        maxBatch: z.number().int().positive().default(1000),
        /** Records held in memory while the store is slow or away (the most a crash can lose); past it, batches are spooled. */
        maxBufferedRecords: z.number().int().positive().default(50_000),
        /** The spool folder, one per gateway process; default `<SQLite file>-ledger-spool`, or ./data/ledger-spool with PostgreSQL. */
        spoolDir: z.string().min(1).optional(),
        /** The spool's bound on disk; records past it are dropped and counted (sluice_ledger_dropped_records_total). */
        maxSpoolBytes: z
          .number()
          .int()
          .positive()
          .default(1024 ** 3),
        /** The wait before writing again to a store that failed, doubled per failure up to maxBackoffMs. */
        retry: z
          .object({
            initialBackoffMs: z.number().int().positive().default(100),
            maxBackoffMs: z.number().int().positive().default(5_000),
          })
          .strict()
          .default({ initialBackoffMs: 100, maxBackoffMs: 5_000 }),
        /**
         * How long the director keeps the ledger's raw rows (docs/ledger.md#retention); absent: for ever. The hourly and
         * daily rollups are kept whatever this says.
         */
        retention: z
          .object({
            /** Rows are deleted, sealed block by sealed block, once their block was sealed this many days ago. */
            transactionsDays: z.number().int().positive().max(36_500).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({
        flushIntervalMs: 200,
        maxBatch: 1000,
        maxBufferedRecords: 50_000,
        maxSpoolBytes: 1024 ** 3,
        retry: { initialBackoffMs: 100, maxBackoffMs: 5_000 },
      }),
    routing: z
      .object({
        retry: retry.default(RETRY_DEFAULTS),
        /**
         * The largest non-streamed upstream answer held in memory to translate or meter (streams are never held): past it
         * the attempt fails as the upstream's fault. A batch of 2,048 float embeddings of 3,072 dimensions would need more.
         */
        maxResponseBytes: z
          .number()
          .int()
          .positive()
          .default(32 * 1024 * 1024),
        circuitBreaker: z
          .object({
            /** Consecutive failures that open a target's circuit. */
            failures: z.number().int().positive().default(5),
            cooldownMs: z.number().int().positive().default(30_000),
          })
          .strict()
          .default({ failures: 5, cooldownMs: 30_000 }),
      })
      .strict()
      .default({
        retry: RETRY_DEFAULTS,
        maxResponseBytes: 32 * 1024 * 1024,
        circuitBreaker: { failures: 5, cooldownMs: 30_000 },
      }),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
        /** json (one object a line, for log shippers) or pretty (for a person); absent: pretty on a terminal, else json. */
        format: z.enum(['json', 'pretty']).optional(),
      })
      .strict()
      .default({ level: 'info' }),
    providers: z.record(providerName, providerSchema).default({}),
    /**
     * Provider base URLs are refused when they point at link-local or cloud metadata addresses, or at Sluice's own
     * listeners, PostgreSQL or Redis; `allow` lists CIDRs, addresses or host:port to permit anyway.
     */
    providerTargets: z
      .object({
        allow: z
          .array(
            z
              .string()
              .max(TEXT_LIMITS.setting)
              .refine((entry) => parseAllowEntry(entry) !== null, 'a CIDR (169.254.10.0/24), an address or host:port'),
          )
          .max(1000)
          .default([]),
      })
      .strict()
      .default({ allow: [] }),
    models: z.array(modelSchema).default([]),
    consumers: z.array(consumer).default([]),
    /** The lifetime of consumer keys made through the director: a default end and a latest one (docs/configuration.md). */
    keys: keysSchema.default({}),
    ...governanceFields,
    compliance: complianceSchema.default(COMPLIANCE_DEFAULTS),
    /** The discovery proxy (`sluice discover`); the gateway and director ignore it. */
    discovery: discoverySchema.default(DISCOVERY_DEFAULTS),
    /** MCP servers fronted on /mcp/<server> (docs/agents.md). */
    mcp: mcpSchema.default(MCP_DEFAULTS),
    /** The exact-match response cache (docs/agents.md); nothing is cached unless a model or a request opts in. */
    cache: cacheSchema.default(CACHE_DEFAULTS),
    /** Who owns each stored Responses API response, for GET, DELETE, cancel and input_items on it (docs/agents.md). */
    responses: responsesSchema.default(RESPONSES_DEFAULTS),
    /** Detectors on prompts and answers: monitor, block or mask (docs/agents.md). */
    guardrails: z.array(guardrailSchema).max(100).default([]),
    /** Who a caller is besides its Sluice key: client certificates, the mesh's forwarded identity, JWTs (docs/identity.md). */
    identity: identitySchema.default({ unmappedCertificate: 'refuse', trustedProxies: [], jwtIssuers: [] }),
  })
  .strict();

export type SluiceConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type ConsumerConfig = z.infer<typeof consumer>;
export type RetryConfig = z.infer<typeof retry>;
export type Pricing = z.infer<typeof pricing>;
