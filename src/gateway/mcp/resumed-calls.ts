// tools/calls whose answer comes on a GET stream (MCP 2025-11-25's Resumability and Redelivery) read through another
// gateway process than the one that took the POST. The event ids of a tools/call's POST stream reach the client sealed
// (as session ids are, sessions.ts) around what the ledger needs of the call: its request id, tool, start and JSON-RPC
// id. The client resumes with one of them as Last-Event-ID, so whichever gateway or worker (holding the master key)
// takes that GET sends the server its own event id and can record the call when the answer comes. The gateway that
// took the POST records it as unanswered when its wait ends; whichever records first claims the call in the counter
// store (Redis between gateways, the primary between workers), so the call is one row. The sealed id names that
// store's scope too: a gateway that does not share it with the POST's leaves the call to the POST's 504, as its claim
// could not keep that from being written too.
import type { Consumer } from '../../policy/consumers.js';
import type { RecordSinks } from '../pipeline/record.js';
import type { McpServer } from './directory.js';
import type { Exchange } from './exchange.js';
import type { JsonRpcId } from './json-rpc.js';
import type { SessionBinding } from './sessions.js';
import { ToolCall } from './tool-call.js';

/**
 * The event id `eventId` of the call's stream, sealed around the call as the client is to present it; `scope`: the
 * counter store's of the gateway that took its POST.
 */
function sealEventId(binding: SessionBinding, call: ToolCall, id: JsonRpcId, scope: string, eventId: string): string {
  const fields = [eventId, call.requestId, call.tool, call.startedAt, id, scope];
  return binding.seal(call.server.name, call.consumer.name, JSON.stringify(fields));
}

/**
 * What the client gets for the server's event ids on the exchange's SSE stream: a tools/call's, sealed around the call,
 * for a GET resuming from one; a GET stream's resumed for a call, sealed around it until its answer comes, for a GET
 * resuming from them in turn (maybe through a third gateway: resumption applies to a GET's stream as to a POST's, MCP
 * 2025-11-25 transports). Null: passed on as they come. `scope`: this process's counter store's.
 */
export function eventIdSealer(binding: SessionBinding, exchange: Exchange, scope: string): ((eventId: string) => string) | null {
  const call = exchange.toolCall;
  const id = exchange.id;
  if (call !== null && id !== null) return (eventId) => sealEventId(binding, call, id, scope, eventId);
  if (exchange.resumed === null) return null;
  return (eventId) => {
    const resumed = exchange.resumed;
    return resumed === null ? eventId : sealEventId(binding, resumed.call, resumed.id, resumed.scope ?? scope, eventId);
  };
}

/** A call resumed with a sealed Last-Event-ID: the server's event id, and the call as the POST's gateway began it. */
export interface ResumedCall {
  eventId: string;
  call: ToolCall;
  id: JsonRpcId;
  /** The counter store's scope of the gateway that took the POST; null in an id sealed before ids named it. */
  scope: string | null;
}

/** The call a Last-Event-ID names, when Sluice sealed it for this consumer on this server; else null (sent as it came). */
export function openEventId(binding: SessionBinding, server: McpServer, consumer: Consumer, presented: string): ResumedCall | null {
  const opened = binding.open(server.name, consumer.name, presented);
  if (opened === null) return null;
  let fields: unknown;
  try {
    fields = JSON.parse(opened);
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length < 5 || fields.length > 6) return null;
  const [eventId, requestId, tool, startedAt, id, scope] = fields as unknown[];
  if (typeof eventId !== 'string' || typeof requestId !== 'string' || typeof tool !== 'string' || typeof startedAt !== 'number')
    return null;
  if (typeof id !== 'string' && typeof id !== 'number') return null;
  const call = new ToolCall(requestId, consumer, server, tool, startedAt);
  call.stream = true;
  call.attempts = 1;
  return { eventId, call, id, scope: typeof scope === 'string' ? scope : null };
}

/**
 * Whether this process, of counter store scope `scope`, records the answer to a call another process may have taken:
 * not past the server's timeoutMs (the POST's gateway has recorded the call as unanswered by then), and only when that
 * gateway shares its claims. Without, the POST's gateway writes its 504 whatever this one does: this one writing the
 * answer too would make the call two rows.
 */
export function recordsResumed(resumed: ResumedCall, scope: string): boolean {
  if (resumed.scope !== null && resumed.scope !== scope) return false;
  return Date.now() - resumed.call.startedAt <= resumed.call.server.timeoutMs;
}

/**
 * Runs `record` for the call unless another gateway process recorded it: the first to claim it does. A counter store
 * that cannot answer leaves the call recorded (a second row, rather than none). `task`: the claim of the outcome of
 * the task the call was answered with (pending-tasks.ts), apart from the claim of that answer, and as long-lived as
 * the longest wait for a task's outcome.
 */
export function recordOnce(sinks: RecordSinks, call: ToolCall, record: () => void, task?: { claimMs: number }): Promise<void> | undefined {
  const key = `mcp-call:${call.server.name}:${call.consumer.name}:${call.requestId}:${call.startedAt}${task === undefined ? '' : ':task'}`;
  let claimed: boolean | Promise<boolean>;
  try {
    claimed = sinks.governance.store.claim(Date.now(), key, task?.claimMs ?? 2 * call.server.timeoutMs + 60_000);
  } catch (error) {
    claimed = Promise.reject(error as Error);
  }
  if (typeof claimed === 'boolean') {
    if (claimed) record();
    return undefined;
  }
  return claimed.then(
    (won) => {
      if (won) record();
    },
    (error: Error) => {
      sinks.logger.warn({ server: call.server.name, err: error.message }, 'MCP call recorded without its once-only claim');
      record();
    },
  );
}
