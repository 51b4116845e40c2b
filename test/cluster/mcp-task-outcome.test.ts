// A task-augmented tools/call whose outcome is read through another gateway than the one that took the call: the
// client holds the task id Sluice sealed for it, which opens on every gateway holding the deployment's master key, and
// polls (or fetches the result) wherever the load balancer sends it. Two `sluice` processes sharing that key and the
// counters' Redis: the call is one row, with the outcome that other gateway read, under the call's own request id.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/utilities/tasks.mdx (Result
// Retrieval: tasks/result returns what the underlying request would have) and modelcontextprotocol/ext-tasks
// specification/draft/tasks.md (Task Status: a completed task's tasks/get holds its `result`).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sendMcp as send, startMcpGateways, stopAndReadCalls, stopMcpGateways, type McpGateway } from '../support/mcp-gateways.js';
import { listenTaskServer, type ServerTask } from '../support/mock-mcp-tasks.js';
import { testKeyPrefix } from '../support/redis.js';

describe("MCP: a task's outcome read through another gateway than the one that took its tools/call", () => {
  let upstream: Server;
  const tasks = new Map<string, ServerTask>();
  let gateways: McpGateway[] = [];
  const keyPrefix = testKeyPrefix();

  before(async () => {
    let url: string;
    ({ server: upstream, url } = await listenTaskServer(tasks));
    gateways = await startMcpGateways(['one', 'two'], url, 2000, keyPrefix);
  });

  after(() => stopMcpGateways(gateways, upstream, keyPrefix));

  it('is one row, with that outcome, written by the gateway that read it', { timeout: 60_000 }, async () => {
    const [one, two] = gateways as [McpGateway, McpGateway];
    // MCP 2026-07-28: the tasks/get finding the task completed holds its result.
    const modern = await send(one, { id: 1, method: 'tools/call', params: { name: 'add', arguments: {} } }, 'mcp-task-call-0001');
    const modernId = modern.result!.taskId as string;
    Object.assign(tasks.get('task-1')!, { status: 'completed', result: { content: [], isError: true } });
    const polled = await send(two, { id: 2, method: 'tasks/get', params: { taskId: modernId } });
    assert.equal(polled.result!.status, 'completed');
    assert.equal(polled.result!.taskId, modernId, 'the task id the client holds stays the same through either gateway');
    // MCP 2025-11-25: polled through the first gateway while it works, its result fetched through the second.
    const legacy = await send(
      one,
      { id: 3, method: 'tools/call', params: { name: 'add', arguments: {}, task: { ttl: 60_000 } } },
      'mcp-task-call-0002',
    );
    const legacyId = (legacy.result!.task as { taskId: string }).taskId;
    assert.equal((await send(one, { id: 4, method: 'tasks/get', params: { taskId: legacyId } })).result!.status, 'working');
    Object.assign(tasks.get('task-2')!, { status: 'completed', result: { content: [{ type: 'text', text: '3' }] } });
    const fetched = await send(two, { id: 5, method: 'tasks/result', params: { taskId: legacyId } });
    assert.deepEqual(fetched.result!.content, [{ type: 'text', text: '3' }]);
    // The gateway that read the outcomes stops first: the other, stopping, would give up on calls it still holds.
    const rows = await stopAndReadCalls([two, one]);
    const call = { gateway: 'two', consumer: 'checkout-service', provider: 'mcp:tools', provider_model: 'add', status: 200 };
    assert.deepEqual(rows, [
      { ...call, request_id: 'mcp-task-call-0001', error_class: 'mcp_tool_error' },
      { ...call, request_id: 'mcp-task-call-0002', error_class: null },
    ]);
  });
});
