// MCP 2026-07-28's multi round-trip requests (basic/patterns/mrtr.mdx): a server may answer tools/call, prompts/get or
// resources/read with an InputRequiredResult (`resultType: "input_required"`) whose `requestState` the client echoes
// back when it retries. The spec has the server bind that state to the authenticated principal, so that no other user
// can replay it; the principal a server behind Sluice sees is always Sluice. So the state reaches the client sealed to
// its consumer (as task ids are, tasks.ts) and is opened on the retry: another consumer's (leaked), an altered or the
// server's raw state is refused and never reaches the server. Input requests of a task (the tasks extension's
// `inputRequests`, answered with tasks/update) need nothing more: tasks/update names its task by the sealed task id.
import { isObject, type JsonRpcMessage } from './json-rpc.js';
import type { SessionBinding } from './sessions.js';

/** The client requests a server may answer with an InputRequiredResult. */
export const MULTI_ROUND_TRIP = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** The protocol version that brought them (MCP-Protocol-Version, compared as the dates it holds). */
export const MULTI_ROUND_TRIP_SINCE = '2026-07-28';

/** The request state in a client's retry: none, opened to the server's (the message changed), or not the consumer's. */
export type OpenedState = 'none' | 'opened' | 'refused';

export function openRequestState(message: JsonRpcMessage, binding: SessionBinding, server: string, consumer: string): OpenedState {
  const params = isObject(message.params) ? message.params : null;
  if (params === null || params.requestState === undefined) return 'none';
  const upstream = typeof params.requestState === 'string' ? binding.open(server, consumer, params.requestState) : null;
  if (upstream === null) return 'refused';
  params.requestState = upstream;
  return 'opened';
}

/** Seals the request state of an InputRequiredResult in the server's `message` to the consumer; true when it did. */
export function sealRequestState(message: Record<string, unknown>, binding: SessionBinding, server: string, consumer: string): boolean {
  const result = message.result;
  if (!isObject(result) || result.resultType !== 'input_required' || typeof result.requestState !== 'string') return false;
  result.requestState = binding.seal(server, consumer, result.requestState);
  return true;
}
