// The MCP gateway's state beyond one config version, made once at start: the keys its sealed ids are bound with and
// the calls whose ledger rows wait for an answer or a task's outcome.
import { randomBytes } from 'node:crypto';
import type { RecordSinks } from '../pipeline/record.js';
import { PendingAnswers } from './pending-answers.js';
import { PendingTasks } from './pending-tasks.js';
import { EVENT_DOMAIN, SessionBinding, STATE_DOMAIN, TASK_DOMAIN } from './sessions.js';

export interface McpState {
  /** Seals and opens the session ids handed to clients, binding each to its consumer. */
  sessions: SessionBinding;
  /** Seals and opens the task ids handed to clients (MCP tasks), binding each to its consumer. */
  tasks: SessionBinding;
  /** Seals and opens the event ids of tools/call streams, around the call (a GET resuming it may reach another process). */
  events: SessionBinding;
  /** Seals and opens the request state of MCP 2026-07-28's multi round-trip requests, binding each to its consumer. */
  states: SessionBinding;
  /** tools/calls whose answer is to come on a GET stream, after their POST's stream ended without it. */
  answers: PendingAnswers;
  /** Task-augmented tools/calls whose outcome is to come from their task (tasks/result, a terminal tasks/get). */
  taskCalls: PendingTasks;
}

/** The master key's one part used here (the request path imports nothing of the store). */
interface KeyDeriver {
  derive(purpose: string): Buffer[];
}

/**
 * Every gateway and worker of a deployment holds its master key, so an id sealed by one opens on all. A lone gateway
 * without one binds with keys of its own: its ids hold on it alone.
 */
export function mcpState(masterKey: KeyDeriver | null, sinks: RecordSinks): McpState {
  const key = (purpose: string) => masterKey?.derive(purpose) ?? [randomBytes(32)];
  return {
    sessions: new SessionBinding(key('sluice mcp sessions')),
    tasks: new SessionBinding(key('sluice mcp tasks'), TASK_DOMAIN),
    events: new SessionBinding(key('sluice mcp events'), EVENT_DOMAIN),
    states: new SessionBinding(key('sluice mcp request states'), STATE_DOMAIN),
    answers: new PendingAnswers(sinks),
    taskCalls: new PendingTasks(sinks),
  };
}

/** At stop, once the gateway has drained: the calls still waiting are recorded as they stand. */
export async function stopMcp(state: McpState): Promise<void> {
  await state.answers.stop();
  await state.taskCalls.stop();
}
