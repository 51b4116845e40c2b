// MCP tasks (2025-11-25 basic/utilities/tasks.mdx; MCP 2026-07-28's tasks extension, ext-tasks
// specification/draft/tasks.md). The server sees one caller, Sluice with its credentials, so it cannot bind a task to
// the consumer that created it, as Task Isolation requires: the task ids Sluice hands out are sealed to their consumer
// (as session ids are, sessions.ts), and opened on the way back. Another consumer's, a forged or a raw server id is
// answered as a task the server does not hold. tasks/list is not offered: the server would list every consumer's tasks,
// and which of them is whose is known to no one (the spec has a server that cannot tell its callers apart not declare it).
import { isObject, type JsonRpcMessage } from './json-rpc.js';
import type { SessionBinding } from './sessions.js';

/** The _meta key tying a request, notification or result to its task. */
const RELATED = 'io.modelcontextprotocol/related-task';
/** Client requests naming their task in params.taskId (tasks/update: MCP 2026-07-28). */
const BY_ID = new Set(['tasks/get', 'tasks/result', 'tasks/cancel', 'tasks/update']);
/** Server notifications whose params are a task. */
export const TASK_STATUS = new Set(['notifications/tasks/status', 'notifications/tasks']);

/** Task ids in a client's message: none, all opened to the server's (the message changed), or one not the consumer's. */
export type OpenedTasks = 'none' | 'opened' | 'unknown';

/**
 * Replaces the sealed task ids in the client's `message` with the server's: params.taskId of a tasks/* request, the
 * related-task metadata of a request, notification or result, and the task ids a subscriptions/listen asks about.
 */
export function openTaskIds(message: JsonRpcMessage, binding: SessionBinding, server: string, consumer: string): OpenedTasks {
  let state: OpenedTasks = 'none';
  /** `own`: an id that does not open may be the client's own task's, left as it is. */
  const open = (holder: unknown, key: string | number, own = false): void => {
    if (state === 'unknown' || (!isObject(holder) && !Array.isArray(holder))) return;
    const presented = (holder as Record<string | number, unknown>)[key];
    const upstream = typeof presented === 'string' ? binding.open(server, consumer, presented) : null;
    if (upstream === null) {
      if (!own) state = 'unknown';
    } else {
      (holder as Record<string | number, unknown>)[key] = upstream;
      state = 'opened';
    }
  };
  const params = isObject(message.params) ? message.params : null;
  if (typeof message.method === 'string' && BY_ID.has(message.method)) open(params ?? {}, 'taskId');
  // On the by-id requests the server ignores it for params.taskId; passed on all the same, so opened too.
  if (params !== null && isObject(params._meta) && params._meta[RELATED] !== undefined) open(params._meta[RELATED], 'taskId');
  // The client's answer to a server's request: about the server's task (sealed when it came), or about one the client
  // runs for the server (a task-augmented elicitation's or sampling's tasks/result), whose id is the client's.
  const result = isObject(message.result) ? message.result : null;
  if (result !== null && isObject(result._meta) && result._meta[RELATED] !== undefined) open(result._meta[RELATED], 'taskId', true);
  const asked = params !== null && isObject(params.notifications) ? params.notifications.taskIds : undefined;
  if (Array.isArray(asked)) for (let i = 0; i < asked.length; i++) open(asked, i);
  return state;
}

/**
 * Seals the server's task ids in its `message` to the consumer (a tools/call's task, a Task in a tasks/* answer or a
 * status notification, related-task metadata, a subscription's acknowledged task ids) and drops tasks.list from the
 * capabilities it declares; true when the message changed.
 */
export function sealTaskIds(message: Record<string, unknown>, binding: SessionBinding, server: string, consumer: string): boolean {
  let changed = false;
  const seal = (holder: unknown, key: string | number): void => {
    const value = isObject(holder) || Array.isArray(holder) ? (holder as Record<string | number, unknown>)[key] : undefined;
    if (typeof value !== 'string') return;
    (holder as Record<string | number, unknown>)[key] = binding.seal(server, consumer, value);
    changed = true;
  };
  const result = message.result;
  if (isObject(result)) {
    // 2025-11-25's CreateTaskResult holds the task; a Task (tasks/get, tasks/cancel, MCP 2026-07-28's CreateTaskResult
    // with resultType "task") is the result.
    seal(result.task, 'taskId');
    if (typeof result.status === 'string') seal(result, 'taskId');
    if (Array.isArray(result.tasks)) for (const task of result.tasks) seal(task, 'taskId');
    if (isObject(result._meta)) seal(result._meta[RELATED], 'taskId');
    const capabilities = isObject(result.capabilities) ? result.capabilities.tasks : undefined;
    if (isObject(capabilities) && capabilities.list !== undefined) {
      delete capabilities.list;
      changed = true;
    }
  }
  const params = message.params;
  if (isObject(params)) {
    if (typeof message.method === 'string' && TASK_STATUS.has(message.method)) seal(params, 'taskId');
    if (isObject(params._meta)) seal(params._meta[RELATED], 'taskId');
    const acknowledged = isObject(params.notifications) ? params.notifications.taskIds : undefined;
    if (Array.isArray(acknowledged)) for (let i = 0; i < acknowledged.length; i++) seal(acknowledged, i);
  }
  return changed;
}
