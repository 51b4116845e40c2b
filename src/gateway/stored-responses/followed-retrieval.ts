// One retrieval of a followed background response (background.ts) from the provider that holds it, with that provider's
// credentials: whether the response has ended, and the usage it reports.
import type { Pool } from 'undici';
import type { Usage } from '../../ir/usage.js';
import type { Provider } from '../../providers/provider.js';
import { asObject, tryParseJson } from '../../wire/json.js';
import { request } from '../../wire/undici.js';

const HEADERS_TIMEOUT_MS = 60_000;
const BODY_TIMEOUT_MS = 120_000;

/** A response's statuses once it has ended (OpenAI's response object, `status`). */
export const ENDED = new Set(['completed', 'incomplete', 'failed', 'cancelled']);

/** How a followed call ended, as its ledger row's error class says it (null: completed or incomplete, as any call). */
export const ERROR_CLASS: Record<string, string | null> = {
  completed: null,
  incomplete: null,
  failed: 'background_failed',
  cancelled: 'background_cancelled',
};

/** The response object with its usage (a 200), `gone` (a 404, or its provider gone from the config), or null (the provider's trouble). */
export type Retrieved = { response: Record<string, unknown>; usage: Usage } | 'gone' | null;

/** Retrieves response `id` from `upstream` (undefined: its provider left the config). Throws when it cannot be reached. */
export async function retrieveFollowed(
  upstream: { provider: Provider; pool: Pool } | undefined,
  id: string,
  signal: AbortSignal | undefined,
): Promise<Retrieved> {
  const open = upstream?.provider.openStoredResponse;
  const usageOf = upstream?.provider.storedResponseUsage;
  if (upstream === undefined || open === undefined || usageOf === undefined) return 'gone';
  const { provider, pool } = upstream;
  const wanted = open.call(provider, id, 'retrieve', '');
  const authorized = provider.authorize === undefined ? wanted : { ...wanted, ...(await provider.authorize({ ...wanted, body: '' })) };
  const answer = await request(provider.origin + authorized.path, {
    dispatcher: pool,
    method: wanted.method,
    headers: authorized.headers,
    headersTimeout: HEADERS_TIMEOUT_MS,
    bodyTimeout: BODY_TIMEOUT_MS,
    ...(signal === undefined ? {} : { signal }),
  });
  const text = await answer.body.text();
  if (answer.statusCode === 404) return 'gone';
  if (answer.statusCode !== 200) return null;
  const response = asObject(tryParseJson(text));
  return { response, usage: usageOf.call(provider, response) };
}
