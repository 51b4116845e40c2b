// The shape of sluice.yaml, validated once at start; defaults live here beside each field.
import { z } from 'zod';
import { governanceFields } from './governance-schema.js';
import { parseAllowEntry } from '../policy/provider-targets.js';
import { headersRecord, httpUrl, labelsRecord, nameText, ownerText, secretText, settingText, TEXT_LIMITS } from './limits.js';

const hostPort = (port: number) =>
  z.object({
    host: z.string().min(1).max(TEXT_LIMITS.setting).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(port),
  }).strict();

const pricing = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
  cacheWrite: z.number().nonnegative().optional(),
}).strict();

/**
 * 4 MiB: the largest bodies the director API takes are 1,000 observations or 10,000 key-use reports with every field at
 * its length limit (about 2.3 MB each); everything else is a few KB.
 */
export const ADMIN_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const PROVIDER_TYPES = ['openai', 'azure-openai', 'anthropic', 'bedrock', 'gemini', 'vertex'] as const;

export const providerSchema = z.object({
  type: z.enum(PROVIDER_TYPES),
  /** Required for openai, azure-openai and anthropic; bedrock, gemini and vertex have a standard endpoint, overridable here. */
  /** Never with user:password@: readers see base URLs, so credentials go in apiKey or headers, which they do not. */
  baseUrl: httpUrl().refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), 'a base URL carries no user:password@; put credentials in apiKey or headers').optional(),
  apiKey: secretText().optional(),
  /** Bedrock: the AWS region, and credentials (else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN). */
  region: settingText().optional(),
  accessKeyId: settingText().optional(),
  secretAccessKey: secretText().optional(),
  sessionToken: secretText().optional(),
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
}).strict();

const target = z.object({
  provider: nameText(),
  model: z.string().min(1).max(TEXT_LIMITS.providerModel),
  /** Relative share of first attempts; targets without a weight are tried only as fallbacks when any has one. */
  weight: z.number().positive().optional(),
}).strict();

const retry = z.object({
  /** Extra attempts on the same target before falling back to the next. */
  attempts: z.number().int().min(0).max(10).default(1),
  backoffMs: z.number().int().min(0).default(100),
  /** Per-attempt time limit until response headers arrive, and between body chunks. */
  timeoutMs: z.number().int().positive().default(300_000),
}).strict();

export const modelSchema = z.object({
  name: nameText(),
  targets: z.array(target).min(1).max(64),
  pricing: pricing.optional(),
  retry: retry.partial().optional(),
}).strict();

const consumer = z.object({
  name: nameText(),
  team: nameText().optional(),
  owner: ownerText().optional(),
  keys: z.array(z.string().min(8, 'a key of at least 8 characters').max(TEXT_LIMITS.setting)).min(1).max(100),
  /** Model names this consumer may use; all when absent. */
  models: z.array(nameText()).max(TEXT_LIMITS.allowList).optional(),
  /** Free-form labels, matched by budget templates' selectors. */
  labels: labelsRecord().default({}),
}).strict();

export const providerName = z.string().max(TEXT_LIMITS.name).regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lowercase name');

/**
 * The fields of a provider that are secrets: the director stores them sealed with the master key and never shows them
 * (a header may carry a token, so header values count too). Every other field is a setting, shown to readers.
 */
export const CREDENTIAL_FIELDS = ['apiKey', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'serviceAccountJson', 'headers'] as const;
export type CredentialField = (typeof CREDENTIAL_FIELDS)[number];

export const configSchema = z.object({
  gateway: hostPort(4000).extend({
    maxBodyBytes: z.number().int().positive().default(10 * 1024 * 1024),
  }).strict().default({ host: '127.0.0.1', port: 4000, maxBodyBytes: 10 * 1024 * 1024 }),
  admin: hostPort(4001).extend({
    /** The bootstrap admin token of the director API (e.g. "${SLUICE_ADMIN_TOKEN}"); generated into the data folder when absent. */
    token: z.string().min(16, 'a token of at least 16 characters').max(TEXT_LIMITS.setting).optional(),
    /** Director API request bodies larger than this are refused with 413; the default holds the largest intake allowed. */
    maxBodyBytes: z.number().int().positive().default(ADMIN_MAX_BODY_BYTES),
  }).strict().default({ host: '127.0.0.1', port: 4001, maxBodyBytes: ADMIN_MAX_BODY_BYTES }),
  /** The ledger's and the director's database: an embedded SQLite file, or PostgreSQL (shared by every gateway). */
  storage: z.string().max(TEXT_LIMITS.url).regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'sqlite:<path> or postgres://user@host:port/database')
    .default('sqlite:./data/sluice.db'),
  ledger: z.object({
    /** How long records wait in memory before a batch is written: the most a crash can lose. */
    flushIntervalMs: z.number().int().positive().default(200),
    maxBatch: z.number().int().positive().default(1000),
  }).strict().default({ flushIntervalMs: 200, maxBatch: 1000 }),
  routing: z.object({
    retry: retry.default({ attempts: 1, backoffMs: 100, timeoutMs: 300_000 }),
    circuitBreaker: z.object({
      /** Consecutive failures that open a target's circuit. */
      failures: z.number().int().positive().default(5),
      cooldownMs: z.number().int().positive().default(30_000),
    }).strict().default({ failures: 5, cooldownMs: 30_000 }),
  }).strict().default({
    retry: { attempts: 1, backoffMs: 100, timeoutMs: 300_000 },
    circuitBreaker: { failures: 5, cooldownMs: 30_000 },
  }),
  log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info') }).strict()
    .default({ level: 'info' }),
  providers: z.record(providerName, providerSchema).default({}),
  /**
   * Provider base URLs are refused when they point at link-local or cloud metadata addresses, or at Sluice's own
   * listeners, PostgreSQL or Redis; `allow` lists CIDRs, addresses or host:port to permit anyway.
   */
  providerTargets: z.object({
    allow: z.array(z.string().max(TEXT_LIMITS.setting).refine((entry) => parseAllowEntry(entry) !== null, 'a CIDR (169.254.10.0/24), an address or host:port'))
      .max(1000).default([]),
  }).strict().default({ allow: [] }),
  models: z.array(modelSchema).default([]),
  consumers: z.array(consumer).default([]),
  ...governanceFields,
}).strict();

export type SluiceConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type ConsumerConfig = z.infer<typeof consumer>;
export type RetryConfig = z.infer<typeof retry>;
export type Pricing = z.infer<typeof pricing>;
