// Task-augmented tools/calls whose outcome is to come. The server answers such a call with a task (MCP 2025-11-25's
// CreateTaskResult, MCP 2026-07-28's `resultType: "task"`), not the tool's result: that comes from tasks/result
// (2025-11-25), or inline in a tasks/get answer or a task status notification that finds the task terminal (2026-07-28:
// `result` when completed, `error` when failed). The call waits here and is recorded once, with that outcome and its
// duration up to it. The wait is bounded: at most MAX_HELD calls per gateway process (past it the oldest is recorded
// as it stands), each until the task's ttl (from its creation, the server's timeoutMs beyond it; 24 h when unlimited).
import type { RecordSinks } from '../pipeline/record.js';
import { isObject } from './json-rpc.js';
import type { ToolCall } from './tool-call.js';

/** The most task calls one gateway process holds; each is a few hundred bytes. */
export const MAX_HELD = 10_000;
/** The longest a task's outcome is waited for (a ttl of null is unlimited, as the spec has it). */
export const MAX_WAIT_MS = 24 * 60 * 60 * 1000;

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

  constructor(sinks: RecordSinks, maxHeld = MAX_HELD) {
    this.held = new Map();
    this.sinks = sinks;
    this.maxHeld = maxHeld;
  }

  /** The call was answered with its task (call.task): recorded when the task's outcome is read, or when it expires. */
  hold(call: ToolCall): void {
    const task = call.task!;
    const key = keyOf(call.server.name, call.consumer.name, task.id);
    const before = this.held.get(key);
    if (before !== undefined) this.expire(key, before);
    if (this.held.size >= this.maxHeld) {
      const [oldest, held] = this.held.entries().next().value as [string, Held];
      this.expire(oldest, held);
    }
    const wait = Math.min(task.ttlMs ?? MAX_WAIT_MS, MAX_WAIT_MS) + call.server.timeoutMs;
    this.held.set(key, { call, task, timer: this.timer(key, wait) });
  }

  /** A Task the server sent (a tasks/get or tasks/cancel answer, a status notification): recorded if terminal. */
  observe(server: string, consumer: string, taskId: string, view: Record<string, unknown>): void {
    if (this.held.size === 0 || typeof view.status !== 'string') return;
    const key = keyOf(server, consumer, taskId);
    const held = this.held.get(key);
    if (held === undefined) return;
    const { call, task } = held;
    const status = view.status;
    if (status === 'completed' && view.result === undefined) {
      // 2025-11-25: the result is tasks/result's, which the client fetches next; its wait is the server's timeoutMs.
      if (task.status === 'completed') return;
      task.status = status;
      clearTimeout(held.timer);
      held.timer = this.timer(key, call.server.timeoutMs);
      return;
    }
    if (status === 'completed') call.observeAnswer({ result: view.result });
    else if (status === 'failed') call.observeAnswer({ error: view.error ?? {} });
    else if (status === 'cancelled') {
      call.answered = true;
      call.errorClass = 'mcp_task_cancelled';
    } else {
      task.status = status;
      const ttlMs = ttlOf(view);
      if (ttlMs !== task.ttlMs && ttlMs !== undefined) {
        // The ttl may change over the task's life; it runs from the task's creation, when the call was answered.
        task.ttlMs = ttlMs;
        const elapsed = Date.now() - call.startedAt;
        clearTimeout(held.timer);
        held.timer = this.timer(key, Math.max(0, Math.min(ttlMs ?? MAX_WAIT_MS, MAX_WAIT_MS) - elapsed) + call.server.timeoutMs);
      }
      return;
    }
    this.settle(key, held);
  }

  /** The answer to a tasks/result (2025-11-25): what the tool call would have answered, result or JSON-RPC error. */
  result(server: string, consumer: string, taskId: string, message: Record<string, unknown>): void {
    if (this.held.size === 0) return;
    const key = keyOf(server, consumer, taskId);
    const held = this.held.get(key);
    if (held === undefined) return;
    held.call.observeAnswer(message);
    this.settle(key, held);
  }

  /** At the gateway's stop, while the ledger is open: the calls still held are recorded as they stand. */
  stop(): void {
    for (const [key, held] of this.held) this.expire(key, held);
  }

  private timer(key: string, waitMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const held = this.held.get(key);
      if (held !== undefined) this.expire(key, held);
    }, waitMs);
    timer.unref();
    return timer;
  }

  private settle(key: string, held: Held): void {
    clearTimeout(held.timer);
    this.held.delete(key);
    held.call.record(this.sinks);
  }

  /** No outcome was read through this gateway process: the call is recorded with the task's last status. */
  private expire(key: string, held: Held): void {
    const status = held.task.status;
    // Completed, its result not fetched (2025-11-25): answered, its isError unknown.
    if (status !== 'completed') held.call.fail(504, status === 'input_required' ? 'mcp_task_input_required' : 'mcp_task_unfinished');
    this.settle(key, held);
  }
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
