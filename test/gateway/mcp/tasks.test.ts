// MCP tasks through Sluice: the server sees one caller (Sluice, with its credentials), so it cannot bind a task to the
// consumer that created it. A task id Sluice hands out is sealed to its consumer (as a session id is): another
// consumer's, a forged or a raw server id is answered as an unknown task (-32602) and never reaches the server, and
// tasks/list, which the server would answer with every consumer's tasks, is not offered. Spec: modelcontextprotocol/
// modelcontextprotocol docs/specification/2025-11-25/basic/utilities/tasks.mdx (Task Isolation and Access Control,
// Protocol Errors, Related Task Metadata) and modelcontextprotocol/ext-tasks specification/draft/tasks.md (2026-07-28:
// resultType "task", Mcp-Name carries params.taskId).
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { KEYS } from '../../support/sluice.js';

const RELATED = 'io.modelcontextprotocol/related-task';

interface Rpc {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A task-capable server answering as the 2025-11-25 spec's examples do; tasks numbered, as a careless server might. */
function taskServer(received: Rpc[], headers: IncomingMessage['headers'][]) {
  const tasks = new Map<string, { tool: string; status: string }>();
  const task = (taskId: string) => ({
    taskId,
    status: tasks.get(taskId)!.status,
    createdAt: '2025-11-25T10:30:00Z',
    lastUpdatedAt: '2025-11-25T10:40:00Z',
    ttl: 60000,
  });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const message = JSON.parse(text) as Rpc;
    received.push(message);
    headers.push(req.headers);
    const json = (body: unknown): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const params = message.params ?? {};
    const known = typeof params.taskId === 'string' && tasks.has(params.taskId);
    const notFound = { jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'Failed to retrieve task: Task not found' } };
    switch (message.method) {
      case 'initialize':
        return json({
          jsonrpc: '2.0',
          id: message.id,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: { tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
            serverInfo: { name: 'tasks', version: '1.0.0' },
          },
        });
      case 'tools/call': {
        const taskId = `task-${tasks.size + 1}`;
        tasks.set(taskId, { tool: String(params.name), status: 'working' });
        // MCP 2026-07-28 (ext-tasks): the task is the result, marked resultType "task"; 2025-11-25: result.task.
        if (params.task === undefined) return json({ jsonrpc: '2.0', id: message.id, result: { resultType: 'task', ...task(taskId) } });
        return json({ jsonrpc: '2.0', id: message.id, result: { task: task(taskId) } });
      }
      case 'tasks/get':
        return json(known ? { jsonrpc: '2.0', id: message.id, result: task(params.taskId as string) } : notFound);
      case 'tasks/cancel':
        if (!known) return json(notFound);
        tasks.get(params.taskId as string)!.status = 'cancelled';
        return json({ jsonrpc: '2.0', id: message.id, result: task(params.taskId as string) });
      case 'tasks/list':
        return json({ jsonrpc: '2.0', id: message.id, result: { tasks: [...tasks.keys()].map(task) } });
      case 'tasks/result': {
        if (!known) return json(notFound);
        const taskId = params.taskId as string;
        tasks.get(taskId)!.status = 'completed';
        // On an SSE stream: the task's status notification, then the tool's result with its related-task metadata.
        const status = { jsonrpc: '2.0', method: 'notifications/tasks/status', params: task(taskId) };
        const result = {
          jsonrpc: '2.0',
          id: message.id,
          result: { content: [{ type: 'text', text: `secret of ${tasks.get(taskId)!.tool}` }], _meta: { [RELATED]: { taskId } } },
        };
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`event: message\ndata: ${JSON.stringify(status)}\n\nevent: message\ndata: ${JSON.stringify(result)}\n\n`);
        return;
      }
      default:
        res.writeHead(202).end();
    }
  };
}

describe("MCP gateway: one consumer's tasks are not another's", () => {
  let gateway: RawMcpGateway;
  let url: string;
  const received: Rpc[] = [];
  const headers: IncomingMessage['headers'][] = [];

  before(async () => {
    const serve = taskServer(received, headers);
    gateway = await rawMcpGateway((req, res) => void serve(req, res), {
      server: 'jobs',
      tools: ['payroll', 'add'],
      searchTools: ['add'],
    });
    url = `${gateway.sluice.baseURL}/mcp/jobs`;
  });

  after(async () => {
    await gateway?.stop();
  });

  /** Sends one message as consumer `key`; answers the JSON-RPC messages of the answer (JSON or SSE). */
  async function send(key: string, message: Rpc, extra: Record<string, string> = {}): Promise<Rpc[]> {
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...extra,
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    });
    assert.equal(answer.status, 200);
    const text = await answer.text();
    if (!String(answer.headers.get('content-type')).startsWith('text/event-stream')) return [JSON.parse(text) as Rpc];
    return text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Rpc);
  }

  /** The server's id of the task it created last. */
  const lastTaskId = (): string => `task-${received.filter((m) => m.method === 'tools/call').length}`;

  async function createTask(key: string, tool: string): Promise<string> {
    const [created] = await send(key, { id: 1, method: 'tools/call', params: { name: tool, arguments: {}, task: { ttl: 60000 } } });
    const taskId = (created!.result!.task as { taskId: string }).taskId;
    assert.doesNotMatch(taskId, /^task-\d+$/, 'the server’s own task id is not handed out');
    return taskId;
  }

  it("answers another consumer's, a forged or a raw task id as an unknown task, and never sends it to the server", async () => {
    const taskId = await createTask(KEYS.checkout, 'payroll');
    const seen = received.length;
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
      for (const presented of [taskId, 'task-1', `${taskId.slice(0, -2)}AA`]) {
        const [refused] = await send(KEYS.search, { id: 7, method, params: { taskId: presented } });
        assert.equal(refused!.error?.code, -32602, `${method} ${presented}`);
        assert.match(refused!.error!.message, /task not found/i);
        assert.equal(refused!.id, 7);
      }
    }
    assert.equal(received.length, seen, 'none of them reached the server');
    const [status] = await send(KEYS.checkout, { id: 8, method: 'tasks/get', params: { taskId } });
    assert.equal(status!.result!.status, 'working', "the owner's task was left alone");
  });

  it('lets the owner poll, fetch and cancel its task by the id it was handed, sealed in every message about it', async () => {
    const taskId = await createTask(KEYS.checkout, 'payroll');
    const [status] = await send(KEYS.checkout, { id: 2, method: 'tasks/get', params: { taskId } });
    assert.equal(status!.result!.taskId, taskId);
    assert.equal(received.at(-1)!.params!.taskId, lastTaskId());
    const [notification, result] = await send(KEYS.checkout, { id: 3, method: 'tasks/result', params: { taskId } });
    assert.equal(notification!.method, 'notifications/tasks/status');
    assert.equal(notification!.params!.taskId, taskId);
    assert.equal((result!.result!._meta as Record<string, { taskId: string }>)[RELATED]!.taskId, taskId);
    assert.match(JSON.stringify(result!.result!.content), /secret of payroll/);
    const second = await createTask(KEYS.checkout, 'payroll');
    const [cancelled] = await send(KEYS.checkout, { id: 4, method: 'tasks/cancel', params: { taskId: second } });
    assert.equal(cancelled!.result!.status, 'cancelled');
    assert.equal(cancelled!.result!.taskId, second);
  });

  it('does not offer tasks/list, which would show every consumer the tasks of all', async () => {
    await createTask(KEYS.checkout, 'payroll');
    const seen = received.length;
    for (const key of [KEYS.checkout, KEYS.search]) {
      const [refused] = await send(key, { id: 5, method: 'tasks/list', params: {} });
      assert.equal(refused!.error?.code, -32601);
      assert.equal(refused!.result, undefined);
    }
    assert.equal(received.length, seen, 'tasks/list never reached the server');
    const [initialized] = await send(KEYS.search, {
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const tasks = (initialized!.result!.capabilities as { tasks: Record<string, unknown> }).tasks;
    assert.deepEqual(tasks, { cancel: {}, requests: { tools: { call: {} } } });
  });

  it('seals a 2026-07-28 task result and sends the server its own id in params.taskId and Mcp-Name', async () => {
    const [created] = await send(KEYS.search, { id: 1, method: 'tools/call', params: { name: 'add', arguments: {} } });
    assert.equal(created!.result!.resultType, 'task');
    const taskId = created!.result!.taskId as string;
    assert.doesNotMatch(taskId, /^task-\d+$/);
    const [status] = await send(
      KEYS.search,
      { id: 2, method: 'tasks/get', params: { taskId } },
      { 'mcp-method': 'tasks/get', 'mcp-name': taskId, 'mcp-protocol-version': '2026-07-28' },
    );
    assert.equal(status!.result!.taskId, taskId);
    const raw = received.at(-1)!.params!.taskId as string;
    assert.match(raw, /^task-\d+$/);
    assert.equal(headers.at(-1)!['mcp-name'], raw);
    const [refused] = await send(KEYS.checkout, { id: 3, method: 'tasks/get', params: { taskId } }, { 'mcp-name': taskId });
    assert.equal(refused!.error?.code, -32602);
  });

  it("opens the server's task id in the client's answer to a server request, and leaves the client's own task ids", async () => {
    const taskId = await createTask(KEYS.checkout, 'payroll');
    const raw = lastTaskId();
    for (const [presented, sent] of [
      [taskId, raw],
      ['client-task-1', 'client-task-1'],
    ]) {
      const answered = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEYS.checkout}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 40, result: { action: 'accept', _meta: { [RELATED]: { taskId: presented } } } }),
      });
      assert.equal(answered.status, 202);
      await answered.arrayBuffer();
      assert.equal((received.at(-1)!.result!._meta as Record<string, { taskId: string }>)[RELATED]!.taskId, sent);
    }
  });
});
