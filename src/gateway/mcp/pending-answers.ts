// tools/calls whose answer has not come yet on their POST's stream. Since MCP 2025-11-25 a server may close that stream
// before its answer, and the client then resumes with GET and Last-Event-ID, where the answer comes: the call waits
// here, recorded once when its answer is read on that GET stream, or when it has waited the server's timeout.
import type { RecordSinks } from '../pipeline/record.js';
import type { JsonRpcId } from './json-rpc.js';
import { recordOnce } from './resumed-calls.js';
import type { ToolCall } from './tool-call.js';
import { WorkUnderWay } from './under-way.js';

const CLAIM_FAILED = 'An MCP call could not be recorded';

interface Waiting {
  call: ToolCall;
  timer: NodeJS.Timeout;
}

export class PendingAnswers {
  /** `<server>\n<consumer>\n<server's session id>\n<JSON-RPC id>` -> the call. */
  private readonly waiting: Map<string, Waiting>;
  private readonly sinks: RecordSinks;
  /** Claims of the calls being recorded, which the gateway's stop waits for while its ledger is open. */
  private readonly underWay: WorkUnderWay;

  constructor(sinks: RecordSinks) {
    this.waiting = new Map();
    this.sinks = sinks;
    this.underWay = new WorkUnderWay(sinks.logger);
  }

  /** The call's POST stream ended before its answer: recorded when the answer comes, or after `waitMs` without. */
  wait(session: string | null, id: JsonRpcId, call: ToolCall, waitMs: number): void {
    const key = keyOf(call.server.name, call.consumer.name, session, id);
    // An id the client used again while the first call waited (it may not): the first is given up.
    const before = this.waiting.get(key);
    if (before !== undefined) {
      clearTimeout(before.timer);
      this.underWay.run(() => unanswered(before.call, this.sinks), CLAIM_FAILED);
    }
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.underWay.run(() => unanswered(call, this.sinks), CLAIM_FAILED);
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

  /**
   * The call's answer was read (here, or on a GET stream resuming a call another process took): `record` runs unless
   * another gateway process recorded the call first, and the gateway's stop waits for that to be known.
   */
  answered(call: ToolCall, record: () => void): void {
    this.underWay.run(() => recordOnce(this.sinks, call, record), CLAIM_FAILED);
  }

  /**
   * At the gateway's stop, while the ledger is open: the calls still waiting are recorded as unanswered, and the
   * answered ones' claims are waited for.
   */
  async stop(): Promise<void> {
    for (const { call, timer } of this.waiting.values()) {
      clearTimeout(timer);
      this.underWay.run(() => unanswered(call, this.sinks), CLAIM_FAILED);
    }
    this.waiting.clear();
    await this.underWay.drain();
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
