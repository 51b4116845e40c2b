// Length limits of the text sluice.yaml, `sluice apply` and the director API take: every string and list is bounded, so
// one value cannot grow the process, the audit log or the snapshot gateways poll. Shared by all three through the schemas.
import { z } from 'zod';

export const TEXT_LIMITS = {
  /** Names of consumers, teams, models, providers, budgets, tokens, keys. */
  name: 200,
  /** A model name as a provider knows it (Bedrock ARNs and inference profiles are long). */
  providerModel: 512,
  /** An owner: an email address or a person's or group's name. */
  owner: 256,
  labelKey: 128,
  labelValue: 256,
  /** Labels on one consumer or in one selector. */
  labels: 64,
  note: 2000,
  url: 2048,
  /** Model names in one consumer's allow-list. */
  allowList: 1000,
  /** A credential or a header value: API keys, AWS session tokens and bearer tokens run to a few KB. */
  secret: 16 * 1024,
  /** A whole service account key (JSON), about 2.3 KB in practice. */
  document: 64 * 1024,
  /** Short settings: regions, versions, locations, projects, prefixes. */
  setting: 256,
  headers: 64,
  headerName: 256,
} as const;

/** A name: one to TEXT_LIMITS.name characters. */
export const nameText = () => z.string().min(1).max(TEXT_LIMITS.name);
export const ownerText = () => z.string().min(1).max(TEXT_LIMITS.owner);
export const noteText = () => z.string().max(TEXT_LIMITS.note);
export const settingText = () => z.string().max(TEXT_LIMITS.setting);
export const secretText = () => z.string().max(TEXT_LIMITS.secret);
export const httpUrl = () => z.url({ protocol: /^https?$/ }).max(TEXT_LIMITS.url);

/** Free-form labels (what budget templates select on): bounded keys, values and count. */
export const labelsRecord = () =>
  z
    .record(z.string().min(1).max(TEXT_LIMITS.labelKey), z.string().max(TEXT_LIMITS.labelValue))
    .refine((labels) => Object.keys(labels).length <= TEXT_LIMITS.labels, `at most ${TEXT_LIMITS.labels} labels`);

/** RFC 9110's token: what a header field name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Extra HTTP headers (providers, webhooks): bounded names, values and count. */
export const headersRecord = () =>
  z
    .record(
      z
        .string()
        .min(1)
        .max(TEXT_LIMITS.headerName)
        .regex(HEADER_NAME, "an HTTP header name: letters, digits and !#$%&'*+-.^_`|~, no spaces"),
      // A CR or LF would end the header and start another (or the body); NUL is refused by HTTP parsers.
      secretText().regex(/^[^\r\n\0]*$/, 'no line breaks or NUL characters'),
    )
    .refine((headers) => Object.keys(headers).length <= TEXT_LIMITS.headers, `at most ${TEXT_LIMITS.headers} headers`);
