// What the MCP gateway reads and rewrites in a server's message on its way to the client: the tool call's outcome
// read for the ledger (on the call's own stream, on a GET stream it was resumed on, or from its task), the task ids
// sealed to the consumer, a tools/list answer filtered to the consumer's grant.
import type { GatewayContext } from '../context.js';
import type { Exchange } from './exchange.js';
import { isObject } from './json-rpc.js';
import { createdTask } from './pending-tasks.js';
import { sealRequestState } from './request-state.js';
import { recordsResumed } from './resumed-calls.js';
import { sealTaskIds, TASK_STATUS } from './tasks.js';
import type { ToolCall } from './tool-call.js';

/** A message from the server with its task ids sealed to the consumer, and answered as below; null: send unchanged. */
export function rewrite(context: GatewayContext, message: unknown, exchange: Exchange, server: string): string | null {
  if (!isObject(message)) return null;
  // Read before the task ids in it are sealed: the calls waiting for their tasks are held by the server's ids.
  observe(context, message, exchange, server);
  let sealed = sealTaskIds(message, context.mcp.tasks, server, exchange.consumer);
  if (exchange.states && sealRequestState(message, context.mcp.states, server, exchange.consumer)) sealed = true;
  return filterTools(message, exchange) ?? (sealed ? JSON.stringify(message) : null);
}

/**
 * The call is answered: recorded, or held until its task's outcome when it was answered with a task the client got (a
 * client gone before it, 499, never polls it).
 */
export function settle(context: GatewayContext, call: ToolCall): void {
  if (call.task !== null && call.status < 300) context.mcp.taskCalls.hold(call);
  else call.record(context);
}

/**
 * Reads the outcome of a tool call in the message: the exchange's tools/call answer, a tools/call answer on a GET
 * stream (replayed there after its stream was closed), or a task's outcome (a tasks/* answer, a status notification).
 */
function observe(context: GatewayContext, message: Record<string, unknown>, exchange: Exchange, server: string): void {
  const taskCalls = context.mcp.taskCalls;
  if (message.method !== undefined) {
    if (typeof message.method === 'string' && TASK_STATUS.has(message.method) && isObject(message.params)) {
      const params = message.params;
      if (typeof params.taskId === 'string') taskCalls.observe(exchange.server, exchange.caller, params.taskId, params);
    }
    return;
  }
  if (exchange.id !== null && message.id !== exchange.id) return;
  if (exchange.resumes && (typeof message.id === 'string' || typeof message.id === 'number')) {
    // The call waiting in this process, or the one the stream was resumed for (its POST maybe taken by another).
    const resumed = exchange.resumed !== null && exchange.resumed.id === message.id ? exchange.resumed : null;
    if (resumed !== null) exchange.resumed = null;
    const local = context.mcp.answers.take(server, exchange.consumer, exchange.session, message.id);
    const call = local ?? (resumed !== null && recordsResumed(resumed, context.governance.store.scope) ? resumed.call : undefined);
    if (call !== undefined) {
      call.observeAnswer(message);
      call.task = createdTask(message.result);
      context.mcp.answers.answered(call, () => settle(context, call));
      return;
    }
  }
  const toolCall = exchange.toolCall;
  if (toolCall !== null) {
    toolCall.observeAnswer(message);
    toolCall.task = createdTask(message.result);
    return;
  }
  if (exchange.task === null) return;
  if (exchange.taskResult) taskCalls.result(exchange.server, exchange.caller, exchange.task, message);
  else if (isObject(message.result)) taskCalls.observe(exchange.server, exchange.caller, exchange.task, message.result);
}

/** A tools/list answer (on its POST, or replayed on a GET stream) filtered to the grant; null: not one, or all granted. */
function filterTools(message: Record<string, unknown>, exchange: Exchange): string | null {
  const grant = exchange.grant;
  if (message.method !== undefined || exchange.toolCall !== null || (exchange.id !== null && message.id !== exchange.id)) return null;
  if (grant === null || grant === '*' || !isObject(message.result) || !Array.isArray(message.result.tools)) return null;
  const tools = message.result.tools.filter((tool: unknown) => isObject(tool) && typeof tool.name === 'string' && grant.has(tool.name));
  // Filtered to this consumer, the list is its own: a shared cache (MCP 2026-07-28's cacheScope "public") would serve it
  // to consumers of other grants.
  const scope = message.result.cacheScope === 'public' ? { cacheScope: 'private' } : {};
  return JSON.stringify({ ...message, result: { ...message.result, tools, ...scope } });
}
