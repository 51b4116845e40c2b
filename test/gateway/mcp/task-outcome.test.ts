// The ledger row of a task-augmented tools/call: the server answers the call with a task (CreateTaskResult, "working")
// and the tool's outcome comes later, from tasks/result (MCP 2025-11-25) or a tasks/get that finds the task terminal
// (MCP 2026-07-28's tasks extension inlines the result or error). The call is one row, written once with that outcome
// and its duration; a task whose outcome is never fetched is written when it expires, with the last status seen.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/utilities/tasks.mdx (Task Status,
// Result Retrieval: tasks/result returns what the underlying request would have) and modelcontextprotocol/ext-tasks
// specification/draft/tasks.md (Task Status: completed holds `result`, failed holds `error`; input_required).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { postRpc, rawMcpGateway, type RawMcpGateway, type Rpc } from '../../support/mock-mcp.js';
import { taskServer, type ServerTask } from '../../support/mock-mcp-tasks.js';
import { KEYS, ledgerRows, ledgerRowWhere, type LedgerRow } from '../../support/sluice.js';

describe('MCP gateway: the ledger row of a task-augmented tools/call', () => {
  let gateway: RawMcpGateway;
  let url: string;
  const tasks = new Map<string, ServerTask>();

  before(async () => {
    const serve = taskServer(tasks);
    gateway = await rawMcpGateway((req, res) => void serve(req, res), { server: 'jobs', tools: ['payroll', 'report'], timeoutMs: 200 });
    url = `${gateway.sluice.baseURL}/mcp/jobs`;
  });

  after(async () => {
    await gateway?.stop();
  });

  const send = (message: Rpc): Promise<Rpc> => postRpc(url, KEYS.checkout, message);

  /** Creates a task (2025-11-25 with `ttl`, else 2026-07-28); answers the id handed to the client and the server's. */
  async function createTask(tool: string, ttl?: number, legacy = ttl !== undefined): Promise<{ taskId: string; raw: string }> {
    const params = legacy ? { name: tool, arguments: {}, task: { ttl } } : { name: tool, arguments: ttl === undefined ? {} : { ttl } };
    const created = await send({ id: 1, method: 'tools/call', params });
    const taskId = legacy ? (created.result!.task as { taskId: string }).taskId : (created.result!.taskId as string);
    return { taskId, raw: `task-${tasks.size}` };
  }

  const callRows = async (): Promise<LedgerRow[]> => (await ledgerRows(gateway.sluice)).filter((row) => row.operation === 'mcp_tool_call');

  it("records a 2025-11-25 task's call once, with the outcome tasks/result gives and its duration", async () => {
    const before = (await callRows()).length;
    const { taskId, raw } = await createTask('payroll', 60_000);
    assert.equal((await send({ id: 2, method: 'tasks/get', params: { taskId } })).result!.status, 'working');
    assert.equal((await callRows()).length, before, 'no row while the task works: its first answer is not its outcome');
    await sleep(150);
    Object.assign(tasks.get(raw)!, { status: 'completed', result: { content: [{ type: 'text', text: 'no' }], isError: true } });
    assert.equal((await send({ id: 3, method: 'tasks/get', params: { taskId } })).result!.status, 'completed');
    const fetched = await send({ id: 4, method: 'tasks/result', params: { taskId } });
    assert.equal(fetched.result!.isError, true);
    await send({ id: 5, method: 'tasks/result', params: { taskId } });
    const rows = (await callRows()).slice(before);
    assert.equal(rows.length, 1, 'one row per call, however often its result is fetched');
    assert.equal(rows[0]!.provider_model, 'payroll');
    assert.equal(rows[0]!.status, 200);
    assert.equal(rows[0]!.error_class, 'mcp_tool_error');
    assert.ok(rows[0]!.latency_ms >= 140, String(rows[0]!.latency_ms)); // a timer may fire a little early
  });

  it('records a 2026-07-28 task from the tasks/get that finds it failed, once, after input it required', async () => {
    const before = (await callRows()).length;
    const { taskId, raw } = await createTask('report');
    tasks.get(raw)!.status = 'input_required';
    assert.equal((await send({ id: 2, method: 'tasks/get', params: { taskId } })).result!.status, 'input_required');
    Object.assign(tasks.get(raw)!, { status: 'failed', error: { code: -32603, message: 'report generator crashed' } });
    for (const id of [3, 4]) assert.equal((await send({ id, method: 'tasks/get', params: { taskId } })).result!.status, 'failed');
    const rows = (await callRows()).slice(before);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 200);
    assert.equal(rows[0]!.error_class, 'mcp_error');
  });

  it('records a completed 2026-07-28 task as answered, and a cancelled one as cancelled', async () => {
    const before = (await callRows()).length;
    const done = await createTask('report');
    Object.assign(tasks.get(done.raw)!, { status: 'completed', result: { content: [{ type: 'text', text: 'ok' }] } });
    await send({ id: 2, method: 'tasks/get', params: { taskId: done.taskId } });
    const cancelled = await createTask('payroll');
    await send({ id: 3, method: 'tasks/cancel', params: { taskId: cancelled.taskId } });
    assert.equal((await send({ id: 4, method: 'tasks/get', params: { taskId: cancelled.taskId } })).result!.status, 'cancelled');
    const rows = (await callRows()).slice(before);
    assert.deepEqual(
      rows.map((row) => [row.provider_model, row.status, row.error_class]),
      [
        ['report', 200, null],
        ['payroll', 200, 'mcp_task_cancelled'],
      ],
    );
  });

  it('writes a task whose outcome is never fetched when it expires, with the last status seen', async () => {
    const before = (await callRows()).length;
    await createTask('payroll', 300);
    const asked = await createTask('report', 300, false);
    tasks.get(asked.raw)!.status = 'input_required';
    await send({ id: 2, method: 'tasks/get', params: { taskId: asked.taskId } });
    const row = await ledgerRowWhere(gateway.sluice, 'the expired tasks', (found) => found.error_class === 'mcp_task_input_required');
    assert.equal(row.status, 504);
    assert.equal(row.provider_model, 'report');
    const unfinished = await ledgerRowWhere(gateway.sluice, 'the unpolled task', (found) => found.error_class === 'mcp_task_unfinished');
    assert.equal(unfinished.provider_model, 'payroll');
    assert.ok(unfinished.latency_ms >= 300, String(unfinished.latency_ms));
    assert.equal((await callRows()).length, before + 2);
  });
});
