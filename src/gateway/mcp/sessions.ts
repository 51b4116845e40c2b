// Which consumer each MCP session (and task) is for. The server sees one caller, Sluice with its credentials, so it
// cannot tell one consumer's session or task from another's: the id Sluice hands the client is the server's id with an
// HMAC over it, the server's name and the consumer's, keyed from the deployment's master key. Any gateway (or worker)
// holding that key checks and unwraps it with no look-up, and another consumer's, a tampered or a raw server id does
// not open.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** 128 bits of HMAC-SHA256: forging one takes 2^128 tries, each a request. */
const MAC_BYTES = 16;
/** Domain separation: a MAC made for another purpose with the same key is never a session's (or a task's). */
export const SESSION_DOMAIN = 'sluice mcp session v1';
export const TASK_DOMAIN = 'sluice mcp task v1';
/** A tools/call's SSE event id, sealed around the call (resumed-calls.ts). */
export const EVENT_DOMAIN = 'sluice mcp event v1';
/** An InputRequiredResult's requestState (request-state.ts). */
export const STATE_DOMAIN = 'sluice mcp request state v1';

export class SessionBinding {
  /** The first seals; every one opens (the keys a master key rotation replaces keep their sessions). */
  private readonly keys: readonly Buffer[];
  private readonly domain: string;

  constructor(keys: readonly Buffer[], domain: string = SESSION_DOMAIN) {
    if (keys.length === 0) throw new Error('an MCP session binding needs a key');
    this.keys = keys;
    this.domain = domain;
  }

  /** The id to hand the client for the server's session (or task) `upstream`, opened for `consumer` on `server`. */
  seal(server: string, consumer: string, upstream: string): string {
    const tag = mac(this.keys[0]!, this.domain, server, consumer, upstream);
    return `${Buffer.from(upstream, 'utf8').toString('base64url')}.${tag.toString('base64url')}`;
  }

  /** The server's session id inside `presented`, or null when it was not handed to this consumer for this server. */
  open(server: string, consumer: string, presented: string): string | null {
    const dot = presented.indexOf('.');
    if (dot <= 0) return null;
    const upstream = Buffer.from(presented.slice(0, dot), 'base64url').toString('utf8');
    const given = Buffer.from(presented.slice(dot + 1), 'base64url');
    if (given.length !== MAC_BYTES) return null;
    for (const key of this.keys) if (timingSafeEqual(given, mac(key, this.domain, server, consumer, upstream))) return upstream;
    return null;
  }
}

function mac(key: Buffer, domain: string, server: string, consumer: string, upstream: string): Buffer {
  // Server and consumer names hold no NUL; the server's id comes last, so no two inputs run together.
  return createHmac('sha256', key)
    .update(`${domain}\u0000${server}\u0000${consumer}\u0000${upstream}`, 'utf8')
    .digest()
    .subarray(0, MAC_BYTES);
}
