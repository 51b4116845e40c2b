// A reload that changes a provider (a rotated key) while calls are in flight: the calls that read the previous config
// finish on it, whatever stage they are at when the reload lands, and the previous connections close once they are done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { validateConfig } from '../../src/config/load.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice } from '../support/sluice.js';

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
    const socket = net.connect(sluice.sluice.gateway.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: sluice\r\ncontent-type: application/json\r\nauthorization: Bearer ${KEYS.checkout}\r\n` +
        `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = structuredClone(sluice.config);
    next.providers.openai!.apiKey = 'upstream-key-after';
    await sluice.sluice.reload(validateConfig(next, 'reloaded config'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(10));
    await closed;
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
