// A raw MCP server of tasks (MCP 2025-11-25's experimental tasks, MCP 2026-07-28's tasks extension) whose tasks'
// statuses the test sets: a tools/call creates one, tasks/get, tasks/cancel and tasks/result answer about it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerRpc, readRpc } from './mock-mcp.js';

export interface ServerTask {
  status: string;
  modern: boolean;
  ttl: number;
  result?: Record<string, unknown>;
  error?: Record<string, unknown>;
}

/** A task server whose tasks' statuses the test sets; 2026-07-28 shapes for a call without `task`, else 2025-11-25's. */
export function taskServer(tasks: Map<string, ServerTask>) {
  let created = 0;
  const view = (taskId: string): Record<string, unknown> => {
    const task = tasks.get(taskId)!;
    const base = { taskId, status: task.status, createdAt: '2026-07-28T10:30:00Z', lastUpdatedAt: '2026-07-28T10:40:00Z' };
    if (!task.modern) return { ...base, ttl: task.ttl, pollInterval: 50 };
    const inline =
      task.status === 'completed'
        ? { result: task.result }
        : task.status === 'failed'
          ? { error: task.error }
          : task.status === 'input_required'
            ? { inputRequests: { name: { method: 'elicitation/create', params: { mode: 'form', message: 'Your name?' } } } }
            : {};
    return { ...base, ttlMs: task.ttl, pollIntervalMs: 50, ...inline };
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const message = await readRpc(req);
    const json = (result: unknown): void => answerRpc(res, message, result);
    const params = message.params ?? {};
    const taskId = String(params.taskId);
    switch (message.method) {
      case 'tools/call': {
        const id = `task-${++created}`;
        const args = (params.arguments ?? {}) as { ttl?: number };
        const requested = (params.task as { ttl?: number } | undefined)?.ttl;
        tasks.set(id, { status: 'working', modern: params.task === undefined, ttl: requested ?? args.ttl ?? 60_000 });
        if (params.task === undefined) return json({ resultType: 'task', ...view(id) });
        return json({ task: view(id) });
      }
      case 'tasks/get':
        return json({ resultType: 'complete', ...view(taskId) });
      case 'tasks/cancel':
        tasks.get(taskId)!.status = 'cancelled';
        return json({ resultType: 'complete' });
      case 'tasks/result': {
        const task = tasks.get(taskId)!;
        const meta = { _meta: { 'io.modelcontextprotocol/related-task': { taskId } } };
        const answer = task.error !== undefined ? { error: task.error } : { result: { ...task.result, ...meta } };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, ...answer })}\n\n`);
        return;
      }
      default:
        res.writeHead(202).end();
    }
  };
}

/** A task server listening on loopback, and its MCP endpoint's URL. */
export async function listenTaskServer(tasks: Map<string, ServerTask>): Promise<{ server: Server; url: string }> {
  const serve = taskServer(tasks);
  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` };
}
