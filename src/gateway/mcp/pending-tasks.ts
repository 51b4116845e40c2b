// Task-augmented tools/calls whose outcome is to come. The server answers such a call with a task (MCP 2025-11-25's
// CreateTaskResult, MCP 2026-07-28's `resultType: "task"`), not the tool's result: that comes from tasks/result
// (2025-11-25), or inline in a tasks/get answer or a task status notification that finds the task terminal (2026-07-28:
// `result` when completed, `error` when failed). The call waits here and is recorded once, with that outcome and its
// duration up to it. The wait is bounded: at most MAX_HELD calls per gateway process (past it the oldest is recorded
// as it stands), each until the task's ttl (from its creation, the server's timeoutMs beyond it; 24 h when unlimited).
// The client may read the outcome through another gateway process than the one that took the call (its sealed task id
// opens on every one holding the master key): the call's details are kept in the counter store (Redis between
// gateways, the primary between workers) for as long as it is held, so whichever process reads the outcome records the
// call, and the first to record it claims it there (resumed-calls.ts), so it is one row. A 2025-11-25 task seen
// completed through a process not holding its call is noted there too, and waited for there as the holder would.
import type { Consumer } from '../../policy/consumers.js';
import type { RecordSinks } from '../pipeline/record.js';
import type { McpServer } from './directory.js';
import { isObject } from './json-rpc.js';
import { recordOnce } from './resumed-calls.js';
import { ToolCall } from './tool-call.js';
import { WorkUnderWay } from './under-way.js';

/** The most task calls one gateway process holds; each is a few hundred bytes. */
export const MAX_HELD = 10_000;
/** The longest a task's outcome is waited for (a ttl of null is unlimited, as the spec has it). */
export const MAX_WAIT_MS = 24 * 60 * 60 * 1000;
/** The details of a held call outlive its wait by this much in the counter store, for an outcome read just then. */
const SHARED_MARGIN_MS = 60_000;
const SHARE_FAILED = "An MCP task's call could not be shared with other gateways";

/** The task a tools/call was answered with, as the server named it. */
export interface CallTask {
  id: string;
  /** Its last status seen: working, input_required, or completed awaiting its result (2025-11-25's tasks/result). */
  status: string;
  /** Its ttl in milliseconds from creation; null for unlimited. */
  ttlMs: number | null;
}

interface Held {
  call: ToolCall;
  task: CallTask;
  timer: NodeJS.Timeout;
}

/** The task in a tools/call's result, when the server answered it with one (2025-11-25 `task`, 2026-07-28 the result). */
export function createdTask(result: unknown): CallTask | null {
  if (!isObject(result)) return null;
  const task = isObject(result.task) ? result.task : result.resultType === 'task' ? result : null;
  if (task === null || typeof task.taskId !== 'string') return null;
  return { id: task.taskId, status: typeof task.status === 'string' ? task.status : 'working', ttlMs: ttlOf(task) ?? null };
}

export class PendingTasks {
  /** `<server>\n<consumer>\n<server's task id>` -> the call, oldest first. */
  private readonly held: Map<string, Held>;
  private readonly sinks: RecordSinks;
  private readonly maxHeld: number;
  /** Store look-ups and claims under way, which the gateway's stop waits for while its ledger is open. */
  private readonly underWay: WorkUnderWay;

  constructor(sinks: RecordSinks, maxHeld = MAX_HELD) {
    this.held = new Map();
    this.sinks = sinks;
    this.maxHeld = maxHeld;
    this.underWay = new WorkUnderWay(sinks.logger);
  }

  /** The call was answered with its task (call.task): recorded when the task's outcome is read, or when it expires. */
  hold(call: ToolCall): void {
    const task = call.task!;
    const key = keyOf(call.server.name, call.consumer.name, task.id);
    const wait = Math.min(task.ttlMs ?? MAX_WAIT_MS, MAX_WAIT_MS) + call.server.timeoutMs;
    this.keep(key, call, task, wait);
    // Off the answer's path: the client has its task id before another gateway could be asked about it, or nearly.
    const shared = JSON.stringify([call.requestId, call.tool, call.startedAt, call.identity, call.stream]);
    this.underWay.run(
      () => this.sinks.governance.store.remember(Date.now(), sharedKey(key), shared, wait + SHARED_MARGIN_MS),
      SHARE_FAILED,
    );
  }

  /** A Task the server sent (a tasks/get or tasks/cancel answer, a status notification): recorded if terminal. */
  observe(server: McpServer, consumer: Consumer, taskId: string, view: Record<string, unknown>): void {
    if (typeof view.status !== 'string') return;
    const key = keyOf(server.name, consumer.name, taskId);
    const held = this.held.get(key);
    if (held === undefined) {
      if (isOutcome(view)) this.adopt(key, server, consumer, (call) => readOutcome(call, view));
      else if (view.status === 'completed') this.adoptCompleted(key, server, consumer, taskId, ttlOf(view));
      return;
    }
    const { call, task } = held;
    if (readOutcome(call, view)) return this.settle(key, held);
    const status = view.status;
    if (status === 'completed') {
      // 2025-11-25: the result is tasks/result's, which the client fetches next; its wait is the server's timeoutMs.
      if (task.status === 'completed') return;
      task.status = status;
      clearTimeout(held.timer);
      held.timer = this.timer(key, call.server.timeoutMs);
      return;
    }
    task.status = status;
    const ttlMs = ttlOf(view);
    if (ttlMs !== task.ttlMs && ttlMs !== undefined) {
      // The ttl may change over the task's life; it runs from the task's creation, when the call was answered.
      task.ttlMs = ttlMs;
      const elapsed = Date.now() - call.startedAt;
      clearTimeout(held.timer);
      held.timer = this.timer(key, Math.max(0, Math.min(ttlMs ?? MAX_WAIT_MS, MAX_WAIT_MS) - elapsed) + call.server.timeoutMs);
    }
  }

  /** The answer to a tasks/result (2025-11-25): what the tool call would have answered, result or JSON-RPC error. */
  result(server: McpServer, consumer: Consumer, taskId: string, message: Record<string, unknown>): void {
    const key = keyOf(server.name, consumer.name, taskId);
    const held = this.held.get(key);
    if (held === undefined) return this.adopt(key, server, consumer, (call) => call.observeAnswer(message));
    held.call.observeAnswer(message);
    this.settle(key, held);
  }

  /** At the gateway's stop, while the ledger is open: the calls still held are recorded as they stand. */
  async stop(): Promise<void> {
    for (const [key, held] of this.held) this.expire(key, held);
    await this.underWay.drain();
  }

  /**
   * The outcome of a task this process does not hold (another gateway or worker took its call, or this one recorded it
   * already): the call is recorded with it, if its details are in the counter store and no process recorded it yet.
   */
  private adopt(key: string, server: McpServer, consumer: Consumer, read: (call: ToolCall) => void): void {
    this.underWay.run(async () => {
      const shared = await this.sinks.governance.store.recall(Date.now(), sharedKey(key));
      const call = shared === null ? null : sharedCall(shared, server, consumer);
      if (call === null) return;
      read(call);
      await recordTask(this.sinks, call);
    }, SHARE_FAILED);
  }

  /**
   * A 2025-11-25 task seen completed, its result tasks/result's, by this process, which does not hold its call (or
   * recorded it already). Noted in the counter store, for the holder not to write the call as unfinished when its wait
   * ends; and the call held here too, as the holder holds one it sees completed: for the server's timeoutMs, recorded
   * then as answered unless its tasks/result comes through some process first (claimed once, recordTask).
   */
  private adoptCompleted(key: string, server: McpServer, consumer: Consumer, taskId: string, ttlMs: number | null | undefined): void {
    const store = this.sinks.governance.store;
    // As long as the holder may wait (its ttl runs from the task's creation, before now).
    const noteMs = Math.min(ttlMs ?? MAX_WAIT_MS, MAX_WAIT_MS) + server.timeoutMs + SHARED_MARGIN_MS;
    this.underWay.run(async () => {
      // Both sent at once, before the client has the answer that may lead it to another gateway.
      const [shared] = await Promise.all([
        store.recall(Date.now(), sharedKey(key)),
        store.remember(Date.now(), completedKey(key), '1', noteMs),
      ]);
      const call = shared === null ? null : sharedCall(shared, server, consumer);
      if (call === null || this.held.has(key)) return;
      this.keep(key, call, { id: taskId, status: 'completed', ttlMs: ttlMs ?? null }, server.timeoutMs);
    }, SHARE_FAILED);
  }

  /** Holds the call for `waitMs` at most; the oldest held is recorded as it stands past maxHeld. */
  private keep(key: string, call: ToolCall, task: CallTask, waitMs: number): void {
    const before = this.held.get(key);
    if (before !== undefined) this.expire(key, before);
    if (this.held.size >= this.maxHeld) {
      const [oldest, held] = this.held.entries().next().value as [string, Held];
      this.expire(oldest, held);
    }
    this.held.set(key, { call, task, timer: this.timer(key, waitMs) });
  }

  private timer(key: string, waitMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const held = this.held.get(key);
      if (held !== undefined) this.expire(key, held);
    }, waitMs);
    timer.unref();
    return timer;
  }

  private settle(key: string, held: Held, before?: () => Promise<void>): void {
    clearTimeout(held.timer);
    this.held.delete(key);
    const { call } = held;
    // Claimed, as another process may read the task's outcome too (or have recorded it already).
    this.underWay.run(async () => {
      await before?.();
      await recordTask(this.sinks, call);
    }, SHARE_FAILED);
  }

  /** No outcome was read through this gateway process: the call is recorded with the task's last status. */
  private expire(key: string, held: Held): void {
    const { call, task } = held;
    // Completed, its result not fetched (2025-11-25): answered, its isError unknown.
    if (task.status === 'completed') return this.settle(key, held);
    this.settle(key, held, async () => {
      // Maybe seen completed through another process (adoptCompleted); a store that cannot answer leaves it unknown.
      let noted: string | null = null;
      try {
        noted = await this.sinks.governance.store.recall(Date.now(), completedKey(key));
      } catch {
        // Not known: the call is recorded as its own wait found it.
      }
      if (noted === null) call.fail(504, task.status === 'input_required' ? 'mcp_task_input_required' : 'mcp_task_unfinished');
    });
  }
}

/** Records the call once, whichever process reads its task's outcome, or gives up on it, first. */
function recordTask(sinks: RecordSinks, call: ToolCall): Promise<void> | undefined {
  // Claimed for as long as any process may hold the call or find its details (hold).
  const claimMs = MAX_WAIT_MS + call.server.timeoutMs + SHARED_MARGIN_MS;
  return recordOnce(sinks, call, () => call.record(sinks), { claimMs });
}

/** A terminal Task: the call's outcome (2025-11-25's `completed` without its result is not: tasks/result gives it). */
function isOutcome(view: Record<string, unknown>): boolean {
  return (view.status === 'completed' && view.result !== undefined) || view.status === 'failed' || view.status === 'cancelled';
}

/** Reads a terminal Task's outcome into its call; false when the task is not terminal. */
function readOutcome(call: ToolCall, view: Record<string, unknown>): boolean {
  if (!isOutcome(view)) return false;
  if (view.status === 'completed') call.observeAnswer({ result: view.result });
  else if (view.status === 'failed') call.observeAnswer({ error: view.error ?? {} });
  else {
    call.answered = true;
    call.errorClass = 'mcp_task_cancelled';
  }
  return true;
}

/** The call a held call's details in the counter store describe (as hold kept them); null when they do not read. */
function sharedCall(shared: string, server: McpServer, consumer: Consumer): ToolCall | null {
  let fields: unknown;
  try {
    fields = JSON.parse(shared);
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 5) return null;
  const [requestId, tool, startedAt, identity, stream] = fields as unknown[];
  if (typeof requestId !== 'string' || typeof tool !== 'string' || typeof startedAt !== 'number') return null;
  const call = new ToolCall(requestId, consumer, server, tool, startedAt);
  call.identity = typeof identity === 'string' ? identity : null;
  call.stream = stream === true;
  call.attempts = 1;
  return call;
}

/** A Task's ttl: 2026-07-28's ttlMs, 2025-11-25's ttl; null for unlimited, undefined when it names none. */
function ttlOf(task: Record<string, unknown>): number | null | undefined {
  const ttl = task.ttlMs !== undefined ? task.ttlMs : task.ttl;
  if (ttl === null) return null;
  return typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0 ? ttl : undefined;
}

function keyOf(server: string, consumer: string, taskId: string): string {
  return `${server}\n${consumer}\n${taskId}`;
}

/** Where a held call's details are kept in the counter store. */
function sharedKey(key: string): string {
  return `mcp-task:${key}`;
}

/** Where a task seen completed (2025-11-25, without its result) by a process not holding its call is noted. */
function completedKey(key: string): string {
  return `mcp-task-completed:${key}`;
}
