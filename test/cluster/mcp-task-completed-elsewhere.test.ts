// A 2025-11-25 task-augmented tools/call whose task is seen `completed` (a tasks/get, without the tool's result: that
// is tasks/result's) through another gateway than the one holding the call, its tasks/result fetched through a third
// or never. Three `sluice` processes sharing the master key and the counters' Redis, as behind a load balancer. The
// call is one row: with the outcome tasks/result gave, or, that never coming, answered (200, its isError unknown) once
// the server's timeoutMs has passed since the task was seen completed, as when the holder sees it so itself; never
// 504 mcp_task_unfinished. Spec: modelcontextprotocol/modelcontextprotocol
// docs/specification/2025-11-25/basic/utilities/tasks.mdx (Retrieving Task Results: after a task completes its result
// is retrieved via tasks/result; a tasks/get answer is the Task, without it).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { sendMcp as send, startMcpGateways, stopAndReadCalls, stopMcpGateways, type McpGateway } from '../support/mcp-gateways.js';
import { listenTaskServer, type ServerTask } from '../support/mock-mcp-tasks.js';
import { testKeyPrefix } from '../support/redis.js';

const TIMEOUT_MS = 2000;

describe('MCP: a 2025-11-25 task seen completed through another gateway than the one holding its call', () => {
  let upstream: Server;
  const tasks = new Map<string, ServerTask>();
  let gateways: McpGateway[] = [];
  const keyPrefix = testKeyPrefix();

  before(async () => {
    let url: string;
    ({ server: upstream, url } = await listenTaskServer(tasks));
    gateways = await startMcpGateways(['one', 'two', 'three'], url, TIMEOUT_MS, keyPrefix);
  });

  after(() => stopMcpGateways(gateways, upstream, keyPrefix));

  it('is one row, with the outcome tasks/result gave, or answered when none comes', { timeout: 60_000 }, async () => {
    const [one, two, three] = gateways as [McpGateway, McpGateway, McpGateway];
    /** A call taken by the first gateway, its task completed with `result` and seen so by a tasks/get through the second. */
    const completedElsewhere = async (requestId: string, id: number, result: Record<string, unknown>): Promise<string> => {
      const params = { name: 'add', arguments: {}, task: { ttl: 60_000 } };
      const created = await send(one, { id, method: 'tools/call', params }, requestId);
      const taskId = (created.result!.task as { taskId: string }).taskId;
      Object.assign(tasks.get(`task-${tasks.size}`)!, { status: 'completed', result });
      const polled = await send(two, { id: id + 1, method: 'tasks/get', params: { taskId } });
      assert.equal(polled.result!.status, 'completed');
      assert.equal(polled.result!.result, undefined, '2025-11-25: the Task, without the result');
      return taskId;
    };
    // Its result fetched through a third gateway.
    const fetchedId = await completedElsewhere('mcp-task-done-0001', 1, { content: [], isError: true });
    const fetched = await send(three, { id: 3, method: 'tasks/result', params: { taskId: fetchedId } });
    assert.equal(fetched.result!.isError, true);
    // Never fetched: written by the gateway that saw it completed, the server's timeoutMs later.
    await completedElsewhere('mcp-task-done-0002', 4, { content: [] });
    await sleep(TIMEOUT_MS + 1000);
    // Never fetched, the holder stopping first: it writes the call as the other gateway saw it.
    await completedElsewhere('mcp-task-done-0003', 6, { content: [] });
    // The note is written off the answer's path (as a held call's details are): sent before the answer, not waited for.
    await sleep(500);
    const rows = await stopAndReadCalls([one, two, three]);
    const call = { consumer: 'checkout-service', provider: 'mcp:tools', provider_model: 'add', status: 200 };
    assert.deepEqual(rows, [
      { ...call, gateway: 'one', request_id: 'mcp-task-done-0003', error_class: null },
      { ...call, gateway: 'two', request_id: 'mcp-task-done-0002', error_class: null },
      { ...call, gateway: 'three', request_id: 'mcp-task-done-0001', error_class: 'mcp_tool_error' },
    ]);
  });
});
