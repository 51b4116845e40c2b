// undici, loaded in parts. A gateway loads at start only what every call goes through, each from undici's own module:
// the pool and agent it dispatches calls with, the connector it guards, the timeout errors it raises. `import 'undici'`
// loads the whole package (fetch, WebSocket, EventSource, cache stores, the mock agent, every interceptor): 5.0 MB of
// heap in a fresh process against 2.0 MB for these parts, kept for the life of the process, which a gateway holding
// 1,000 streams in 150 MB feels. The top-level `request` (webhooks, MCP, Vertex's tokens, a lone gateway's director)
// loads the package at its first call, so only a gateway that uses them pays for it. undici's version is pinned by the
// lockfile, and test/wire/undici.test.ts checks that each part is the very object undici exports: an upgrade that
// moves one fails there, not at a call.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export type Pool = Undici.Pool;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;

/**
 * Loads the whole package now, where a gateway is set up to use `request` (a webhook, an MCP server, a Vertex provider,
 * a director): loading reads undici's hundred-odd files on the event loop, which its first call then does not.
 */
export function preloadRequest(): void {
  void import('undici').catch(() => undefined);
}

/** undici's `request`, the package loaded at the first call (a module import is cached: later calls only look it up). */
export async function request(...args: Parameters<typeof Undici.request<null>>): Promise<Undici.Dispatcher.ResponseData> {
  const undici = await import('undici');
  return undici.request(...args);
}
