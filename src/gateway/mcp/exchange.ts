// One client message (or GET stream) on its way through the MCP gateway: what the gateway does with its answer.
import type { Consumer } from '../../policy/consumers.js';
import type { McpServer, ToolGrant } from './directory.js';
import type { JsonRpcId } from './json-rpc.js';
import type { ResumedCall } from './resumed-calls.js';
import type { ToolCall } from './tool-call.js';

export interface Exchange {
  id: JsonRpcId | null;
  /** tools/list (and a GET stream): the result's tools filtered to the grant. */
  grant: ToolGrant | null;
  /** tools/call: recorded once answered. */
  toolCall: ToolCall | null;
  /** Who sent it: the owner of a session the server opens in answer. */
  consumer: string;
  /** The same consumer, and the server it goes to: what a call another process took is recorded with (pending-tasks.ts). */
  caller: Consumer;
  server: McpServer;
  /** The server's id of the session the client presented (unwrapped from Sluice's), sent on in its place. */
  session: string | null;
  /** A GET stream: answers to the consumer's earlier POSTs may come on it (their streams closed before them). */
  resumes: boolean;
  /** A GET stream or MCP 2026-07-28's subscriptions/listen: open, quiet, for as long as the client listens. */
  listens: boolean;
  /** Its answer may name tasks (tasks/*, subscriptions/listen) or the server's task capabilities (initialize). */
  tasks: boolean;
  /** tools/call, prompts/get, resources/read: the answer may be an InputRequiredResult, its requestState sealed. */
  states: boolean;
  /** tasks/get, tasks/result or tasks/cancel: the server's id of the task it names, whose outcome its answer may give. */
  task: string | null;
  /** tasks/result: its answer is the task's tools/call answer. */
  taskResult: boolean;
  /** A GET stream resumed from a tools/call's sealed event id: the call, its answer to come on it. */
  resumed: ResumedCall | null;
}
