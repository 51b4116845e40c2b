// What every request handler reads: the current config snapshot (swapped whole on reload) and the sinks for records.
import type { ReadinessProbe } from '../observability/readiness.js';
import type { ChatCache } from './cache/chat-cache.js';
import type { GatewayIdentity } from './pipeline/authenticate.js';
import type { RecordSinks } from './pipeline/record.js';
import type { PendingAnswers } from './mcp/pending-answers.js';
import type { PendingTasks } from './mcp/pending-tasks.js';
import type { SessionBinding } from './mcp/sessions.js';
import type { Snapshot } from './snapshot.js';
import type { BackgroundResponses } from './stored-responses/background.js';
import type { StoredResponses } from './stored-responses/stored-responses.js';

export interface GatewayContext extends RecordSinks {
  /** Everything built from one version of the config. A call reads it once, so a reload never mixes two versions. */
  snapshot: Snapshot;
  maxBodyBytes: number;
  /** /readyz: draining, the ledger keeping up, the counters answering. */
  readiness: ReadinessProbe;
  /** The response cache's store (kept across reloads); which calls it serves is the snapshot's cachePolicy. */
  cache: ChatCache;
  /** Who owns each stored Responses API response (kept across reloads). */
  storedResponses: StoredResponses;
  /** Background Responses API calls followed until they end, then metered (kept across reloads). */
  background: BackgroundResponses;
  /** The MCP gateway's state beyond one config version (fixed at start). */
  mcp: {
    /** Seals and opens the session ids handed to clients, binding each to its consumer. */
    sessions: SessionBinding;
    /** Seals and opens the task ids handed to clients (MCP tasks), binding each to its consumer. */
    tasks: SessionBinding;
    /** Seals and opens the event ids of tools/call streams, around the call (a GET resuming it may reach another process). */
    events: SessionBinding;
    /** Seals and opens the request state of MCP 2026-07-28's multi round-trip requests, binding each to its consumer. */
    states: SessionBinding;
    /** tools/calls whose answer is to come on a GET stream, after their POST's stream ended without it. */
    answers: PendingAnswers;
    /** Task-augmented tools/calls whose outcome is to come from their task (tasks/result, a terminal tasks/get). */
    taskCalls: PendingTasks;
  };
  /** Client certificates, trusted proxies and JWT issuers (fixed at start). */
  identity: GatewayIdentity;
}
