// A minimal client of the director API for tests: one call with a bearer token, answering status, headers and parsed JSON.
import type { TestSluice } from './sluice.js';
import { until } from './until.js';

export interface AdminAnswer {
  status: number;
  headers: Headers;
  // Tests read arbitrary answer fields; the API's own schemas are checked by the tests that use them.
  body: any;
}

export type AdminClient = (method: string, path: string, payload?: unknown) => Promise<AdminAnswer>;

/** `payload`: an object sent as JSON, or a string sent as it is. */
export function adminClient(sluice: TestSluice, token: string): AdminClient {
  return async (method, path, payload) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text) };
  };
}

/** Makes an admin token with the bootstrap client and returns a client that uses it. */
export async function clientWithRole(
  sluice: TestSluice,
  admin: AdminClient,
  name: string,
  role: string,
  team?: string,
): Promise<AdminClient> {
  const made = await admin('POST', '/api/admin-tokens', { name, role, ...(team === undefined ? {} : { team }) });
  if (made.status !== 201) throw new Error(`cannot make a ${role} token: ${JSON.stringify(made.body)}`);
  return adminClient(sluice, made.body.plaintext as string);
}

/**
 * A provider and model for the test config's declared consumers to name, for director tests that never call the gateway
 * (the base URL is a closed loopback port).
 */
export const OFFLINE_CATALOG = mockCatalog('http://127.0.0.1:9');

/** OFFLINE_CATALOG's provider and model, served by the OpenAI API at `url` (a MockProvider's). */
export function mockCatalog(url: string) {
  return {
    providers: { openai: { type: 'openai', baseUrl: `${url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  };
}

/**
 * One observation for POST /api/reconciliation/observations, as an observer reports an undeclared caller: `calls` calls
 * from `ip` to openai's `model` at `at` (epoch milliseconds), costing `costMicroUsd` in all.
 */
export function observation(ip: string, model: string, calls: number, at: number, costMicroUsd = 0) {
  return { observer: 'proxy-1', at, source: { ip }, provider: 'openai', model, calls, costMicroUsd };
}

/** Reports observations through the intake, failing unless they are recorded. */
export async function observe(admin: AdminClient, observations: Array<ReturnType<typeof observation>>): Promise<void> {
  const intake = await admin('POST', '/api/reconciliation/observations', { observations });
  if (intake.status !== 200) throw new Error(`observations not recorded: ${JSON.stringify(intake.body)}`);
}

/** Until the ledger lists `count` calls: the gateway's reach it in its next batch. */
export async function untilLedgerHolds(admin: AdminClient, count: number): Promise<void> {
  await until(
    `the ${count} calls are in the ledger`,
    async () => (await admin('GET', '/api/transactions?limit=1000')).body.items.length === count,
    30_000,
    50,
  );
}
