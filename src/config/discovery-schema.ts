// The `discovery` section of sluice.yaml: the passive egress proxy (`sluice discover`) that inventories AI traffic, its
// organisation CA, the catalog of AI hosts it reads (beyond the built-in one), and where it reports what it saw.
import { z } from 'zod';

const hostPattern = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9*.-]+$/, 'a host name, "*" standing for part of one label');

export const WIRE_FORMATS = ['openai', 'anthropic', 'bedrock', 'gemini', 'cohere'] as const;

export const discoverySchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(3128),
    /** observe: never blocks, never changes a byte; enforce: a call to a model the resource policy refuses gets a 403. */
    mode: z.enum(['observe', 'enforce']).default('observe'),
    /** The name this proxy reports as (the observations' `observer`); default `discovery@<host name>`. */
    observer: z.string().min(1).max(200).optional(),
    /** Users allowed through (Proxy-Authorization: Basic); absent: no proxy authentication. The user becomes a hint. */
    users: z
      .array(
        z
          .object({
            name: z
              .string()
              .min(1)
              .max(200)
              .regex(/^[^:]+$/, 'no ":"'),
            password: z.string().min(1),
          })
          .strict(),
      )
      .max(1000)
      .optional(),
    /** The organisation CA (`sluice ca init` writes both); leaf certificates for intercepted hosts are minted from it. */
    ca: z
      .object({
        certFile: z.string().min(1).default('./data/discovery-ca.pem'),
        keyFile: z.string().min(1).default('./data/discovery-ca-key.pem'),
        leafValidityDays: z.number().int().min(1).max(397).default(7),
      })
      .strict()
      .default({ certFile: './data/discovery-ca.pem', keyFile: './data/discovery-ca-key.pem', leafValidityDays: 7 }),
    /** Hosts to read besides the built-in catalog, e.g. a private gateway speaking OpenAI's API. */
    hosts: z
      .array(
        z
          .object({
            pattern: hostPattern,
            provider: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
            wire: z.enum(WIRE_FORMATS).default('openai'),
          })
          .strict(),
      )
      .max(1000)
      .default([]),
    /** Hosts never intercepted even if in the catalog (pinned clients): tunneled untouched. */
    exclude: z.array(hostPattern).max(1000).default([]),
    upstream: z
      .object({
        /** A PEM bundle trusted for upstream certificates besides the system's (private gateways, tests). */
        caFile: z.string().min(1).optional(),
        /** host or host:port -> address:port to connect to instead of resolving it (like curl --resolve). */
        resolve: z.record(z.string(), z.string().regex(/^[^\s]+:\d{1,5}$/, 'address:port')).default({}),
      })
      .strict()
      .default({ resolve: {} }),
    /** Request and non-streamed response bodies larger than this pass through unread and are recorded as unparsed. */
    maxParseBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /**
     * How long a Gemini Live session's first message (its setup, naming the model) is waited for after the switch: past
     * it the session is recorded naming no model, and in enforce mode closed.
     */
    sessionSetupTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
    /** The secret that keys provider-key fingerprints (hmac-sha256); absent: unkeyed sha256, as keyFingerprint() makes. */
    fingerprintKey: z.string().min(16).optional(),
    /** OTLP/HTTP intake (POST /v1/traces) on the proxy's own port. */
    otlp: z.boolean().default(true),
    director: z
      .object({
        url: z.string().url(),
        /** An admin or operator token of the director API, e.g. "${SLUICE_DIRECTOR_TOKEN}". */
        token: z.string().min(16),
        flushIntervalMs: z.number().int().positive().default(10_000),
        maxBatch: z.number().int().min(1).max(1000).default(1000),
        spoolDir: z.string().min(1).default('./data/discovery-spool'),
        /** The spool's bound on disk; observations past it are dropped, counted and logged. */
        maxSpoolBytes: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
        initialBackoffMs: z.number().int().positive().default(500),
        maxBackoffMs: z.number().int().positive().default(30_000),
        /** How often resource statuses are read back from the director for enforce mode. */
        policyRefreshMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type DiscoveryConfig = z.infer<typeof discoverySchema>;
export type WireFormat = (typeof WIRE_FORMATS)[number];
export const DISCOVERY_DEFAULTS: DiscoveryConfig = discoverySchema.parse({});
