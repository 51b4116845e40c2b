// tools/calls whose answer has not come yet on their POST's stream. Since MCP 2025-11-25 a server may close that stream
// before its answer, and the client then resumes with GET and Last-Event-ID, where the answer comes: the call waits
// here, recorded once when its answer is read on that GET stream, or when it has waited the server's timeout.
import type { RecordSinks } from '../pipeline/record.js';
import type { JsonRpcId } from './json-rpc.js';
import { recordOnce } from './resumed-calls.js';
import type { ToolCall } from './tool-call.js';

interface Waiting {
  call: ToolCall;
  timer: NodeJS.Timeout;
}

export class PendingAnswers {
  /** `<server>\n<consumer>\n<server's session id>\n<JSON-RPC id>` -> the call. */
  private readonly waiting: Map<string, Waiting>;
  private readonly sinks: RecordSinks;

  constructor(sinks: RecordSinks) {
    this.waiting = new Map();
    this.sinks = sinks;
  }

  /** The call's POST stream ended before its answer: recorded when the answer comes, or after `waitMs` without. */
  wait(session: string | null, id: JsonRpcId, call: ToolCall, waitMs: number): void {
    const key = keyOf(call.server.name, call.consumer.name, session, id);
    // An id the client used again while the first call waited (it may not): the first is given up.
    const before = this.waiting.get(key);
    if (before !== undefined) {
      clearTimeout(before.timer);
      void unanswered(before.call, this.sinks);
    }
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      void unanswered(call, this.sinks);
    }, waitMs);
    timer.unref();
    this.waiting.set(key, { call, timer });
  }

  /** The call this answer (read on a GET stream of the consumer's session) belongs to, now no longer waiting. */
  take(server: string, consumer: string, session: string | null, id: JsonRpcId): ToolCall | undefined {
    if (this.waiting.size === 0) return undefined;
    const key = keyOf(server, consumer, session, id);
    const waiting = this.waiting.get(key);
    if (waiting === undefined) return undefined;
    clearTimeout(waiting.timer);
    this.waiting.delete(key);
    return waiting.call;
  }

  /** At the gateway's stop, while the ledger is open: the calls still waiting are recorded as unanswered. */
  async stop(): Promise<void> {
    const claims: Array<Promise<void> | undefined> = [];
    for (const { call, timer } of this.waiting.values()) {
      clearTimeout(timer);
      claims.push(unanswered(call, this.sinks));
    }
    this.waiting.clear();
    await Promise.all(claims);
  }
}

/**
 * No answer reached this gateway process: recorded so, unless the gateway that read it on a GET stream (another worker
 * or gateway, resumed-calls.ts) recorded it first.
 */
function unanswered(call: ToolCall, sinks: RecordSinks): Promise<void> | undefined {
  return recordOnce(sinks, call, () => {
    call.fail(504, 'mcp_answer_unseen');
    call.record(sinks);
  });
}

function keyOf(server: string, consumer: string, session: string | null, id: JsonRpcId): string {
  return `${server}\n${consumer}\n${session ?? ''}\n${typeof id}:${id}`;
}
