// A reload that changes a provider (a rotated key) while calls are in flight: the calls that read the previous config
// finish on it, whatever stage they are at when the reload lands, and the previous connections close once they are done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { validateConfig } from '../../src/config/load.js';
import { initializeMcpSession, startMockMcp, MOCK_MCP_TOKEN } from '../support/mock-mcp.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice } from '../support/sluice.js';

/** Sends a request's head and the first bytes of its body now; the rest when `finish` is called. The whole answer at close. */
function slowRequest(port: number, head: string, body: string): { finish: () => void; answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.write(`${head}connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
  return { finish: () => socket.write(body.slice(10)), answer: closed };
}

test("a call still sending its body when a reload rotates its provider's key is served, and the next call uses the new key", async () => {
  const upstream = await MockProvider.start((request, res) =>
    json(res, 200, openaiCompletion(`answered with ${String(request.headers.authorization)}`)),
  );
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-before' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
  try {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const call = slowRequest(
      sluice.sluice.gateway.port,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: sluice\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.checkout}\r\n`,
      body,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = structuredClone(sluice.config);
    next.providers.openai!.apiKey = 'upstream-key-after';
    await sluice.sluice.reload(validateConfig(next, 'reloaded config'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    call.finish();
    const answer = await call.answer;
    assert.match(answer, /^HTTP\/1\.1 200 /, answer);
    assert.match(answer, /answered with Bearer upstream-key-before/, 'the call finished on the config it began with');

    const after = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}` },
      body,
    });
    assert.match(await after.text(), /answered with Bearer upstream-key-after/);
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class, row.attempts]),
      [
        [200, null, 1],
        [200, null, 1],
      ],
    );
  } finally {
    await sluice.stop();
    await upstream.close();
  }
});

test('an MCP tools/call still sending its body when a reload moves its server is answered by the server it began with', async () => {
  const before = await startMockMcp({ json: true });
  const moved = await startMockMcp({ json: true });
  const sluice = await startTestSluice({
    consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
    mcp: {
      servers: { tools: { url: before.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` } } },
      access: [{ consumer: 'checkout-service', server: 'tools', tools: '*' }],
    },
  });
  try {
    const session = (await initializeMcpSession(`${sluice.baseURL}/mcp/tools`, KEYS.checkout, 'reload-test'))['mcp-session-id'];
    const call = slowRequest(
      sluice.sluice.gateway.port,
      `POST /mcp/tools HTTP/1.1\r\nhost: sluice\r\nauthorization: Bearer ${KEYS.checkout}\r\ncontent-type: application/json\r\n` +
        `accept: application/json, text/event-stream\r\nmcp-session-id: ${session}\r\nmcp-protocol-version: 2025-06-18\r\n`,
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = structuredClone(sluice.config);
    next.mcp.servers.tools!.url = moved.url;
    await sluice.sluice.reload(validateConfig(next, 'reloaded config'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    call.finish();
    const answer = await call.answer;
    assert.match(answer, /^HTTP\/1\.1 200 /, answer);
    assert.match(answer, /"text":"5"/);
    assert.deepEqual([before.calls, moved.calls], [['add'], []]);
  } finally {
    await sluice.stop();
    await before.close();
    await moved.close();
  }
});
