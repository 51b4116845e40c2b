// What every request handler reads: the current config snapshot (swapped whole on reload) and the sinks for records.
import type { ReadinessProbe } from '../observability/readiness.js';
import type { ChatCache } from './cache/chat-cache.js';
import type { GatewayIdentity } from './pipeline/authenticate.js';
import type { RecordSinks } from './pipeline/record.js';
import type { McpState } from './mcp/state.js';
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
  mcp: McpState;

  /** Client certificates, trusted proxies and JWT issuers (fixed at start). */
  identity: GatewayIdentity;
}
