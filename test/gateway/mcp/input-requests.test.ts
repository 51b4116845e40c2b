// Input the server asks of a consumer (MCP 2026-07-28) is that consumer's to give. Two shapes:
// - the tasks extension's `inputRequests` in a tasks/get answer (status input_required), answered with tasks/update
//   `inputResponses`. Their keys are unique within the task, and tasks/update names the task by its id, which Sluice
//   seals to the consumer: another consumer cannot address the task, so cannot answer its input requests.
// - multi round-trip requests: an InputRequiredResult (`resultType: "input_required"`) whose `requestState` the client
//   echoes back when it retries. The spec has a server bind that state to the authenticated principal; behind Sluice the
//   principal is always Sluice, so Sluice seals it to the consumer as it does task ids: another consumer's (leaked),
//   an altered or the server's raw state is refused and never reaches the server.
// Spec: modelcontextprotocol/ext-tasks specification/draft/tasks.md (Task Update Requests: keys unique over a task's
// lifetime, servers ignore keys not outstanding for the task) and modelcontextprotocol/modelcontextprotocol
// docs/specification/2026-07-28/basic/patterns/mrtr.mdx (Server Requirements: requestState replay across principals).
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { answerRpc, postRpc, rawMcpGateway, readRpc, type RawMcpGateway, type Rpc } from '../../support/mock-mcp.js';
import { KEYS, ledgerRows } from '../../support/sluice.js';

const ELICIT = { method: 'elicitation/create', params: { mode: 'form', message: 'Approve the payroll run?' } };

function inputServer(received: Rpc[]) {
  let created = 0;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const message = await readRpc(req);
    received.push(message);
    const json = (result: unknown): void => answerRpc(res, message, result);
    const params = message.params ?? {};
    const task = { status: 'input_required', createdAt: '2026-07-28T10:30:00Z', lastUpdatedAt: '2026-07-28T10:30:00Z', ttlMs: 60_000 };
    switch (message.method) {
      case 'tools/call':
        if (params.name === 'approve') return json({ resultType: 'task', taskId: `task-${++created}`, ...task, status: 'working' });
        // MRTR: the first attempt asks for input; the retry with the state and responses is answered.
        if (params.requestState === undefined)
          return json({ resultType: 'input_required', inputRequests: { approval: ELICIT }, requestState: `state-of-call-${++created}` });
        return json({ resultType: 'complete', content: [{ type: 'text', text: `ran with ${String(params.requestState)}` }] });
      case 'tasks/get':
        return json({ resultType: 'complete', taskId: params.taskId, ...task, inputRequests: { approval: ELICIT } });
      case 'tasks/update':
        return json({ resultType: 'complete' });
      default:
        res.writeHead(202).end();
    }
  };
}

describe("MCP gateway: one consumer's input requests are not another's", () => {
  let gateway: RawMcpGateway;
  let url: string;
  const received: Rpc[] = [];

  before(async () => {
    const serve = inputServer(received);
    gateway = await rawMcpGateway((req, res) => void serve(req, res), {
      server: 'jobs',
      tools: ['approve', 'payroll'],
      searchTools: ['approve', 'payroll'],
    });
    url = `${gateway.sluice.baseURL}/mcp/jobs`;
  });

  after(async () => {
    await gateway?.stop();
  });

  const send = (key: string, message: Rpc): Promise<Rpc> => postRpc(url, key, message);

  it("keeps a task's input requests to its consumer: tasks/update reaches the server for the owner's task only", async () => {
    const created = await send(KEYS.checkout, { id: 1, method: 'tools/call', params: { name: 'approve', arguments: {} } });
    const taskId = created.result!.taskId as string;
    const polled = await send(KEYS.checkout, { id: 2, method: 'tasks/get', params: { taskId } });
    assert.equal(polled.result!.taskId, taskId);
    assert.deepEqual(Object.keys(polled.result!.inputRequests as object), ['approval']);
    const seen = received.length;
    const answer = { taskId, inputResponses: { approval: { action: 'accept', content: { approved: true } } } };
    const refused = await send(KEYS.search, { id: 3, method: 'tasks/update', params: answer });
    assert.equal(refused.error?.code, -32602);
    assert.equal(received.length, seen, "another consumer's answer never reached the server");
    // Its own task: the server is sent that task's id, so the key can only answer that task's request.
    const own = await send(KEYS.search, { id: 4, method: 'tools/call', params: { name: 'approve', arguments: {} } });
    await send(KEYS.search, { id: 5, method: 'tasks/update', params: { ...answer, taskId: own.result!.taskId } });
    assert.equal(received.at(-1)!.params!.taskId, `task-${received.filter((m) => m.params?.name === 'approve').length}`);
    const accepted = await send(KEYS.checkout, { id: 6, method: 'tasks/update', params: answer });
    assert.equal(accepted.result!.resultType, 'complete');
    assert.match(String(received.at(-1)!.params!.taskId), /^task-\d+$/);
  });

  it("refuses another consumer's, an altered or the server's raw requestState, and never sends it on", async () => {
    const asked = await send(KEYS.checkout, { id: 1, method: 'tools/call', params: { name: 'payroll', arguments: {} } });
    assert.equal(asked.result!.resultType, 'input_required');
    const state = asked.result!.requestState as string;
    const raw = `state-of-call-${received.filter((m) => m.method === 'tools/call').length}`;
    assert.notEqual(state, raw, "the client holds Sluice's sealed state, not the server's");
    const retry = (requestState: string) => ({
      name: 'payroll',
      arguments: {},
      inputResponses: { approval: { action: 'accept', content: { approved: true } } },
      requestState,
    });
    const seen = received.length;
    const rows = (await ledgerRows(gateway.sluice)).length;
    for (const [key, presented] of [
      [KEYS.search, state],
      [KEYS.checkout, raw],
      [KEYS.checkout, `${state.slice(0, -2)}AA`],
    ] as const) {
      const refused = await send(key, { id: 2, method: 'tools/call', params: retry(presented) });
      assert.equal(refused.error?.code, -32602, presented);
      assert.equal(refused.result, undefined);
    }
    assert.equal(received.length, seen, 'no refused retry reached the server');
    const refusedRows = (await ledgerRows(gateway.sluice)).slice(rows).filter((row) => row.operation === 'mcp_tool_call');
    assert.deepEqual(
      refusedRows.map((row) => [row.status, row.error_class]),
      Array(3).fill([403, 'mcp_request_state_refused']),
    );
    const answered = await send(KEYS.checkout, { id: 3, method: 'tools/call', params: retry(state) });
    assert.equal(received.at(-1)!.params!.requestState, raw, 'the server is sent its own state');
    assert.match(JSON.stringify(answered.result!.content), new RegExp(`ran with ${raw}`));
  });
});
