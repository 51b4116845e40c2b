// `sluice start --workers 2` with TLS on both listeners, as a user runs it: the primary holds the listening sockets and
// hands each raw connection to a worker (src/cluster/balancer.ts), which makes the TLS handshake itself with the
// certificate from sluice.yaml. The OpenAI SDK over HTTPS with a pool of keep-alive connections spread over both
// workers, and the admin API over HTTPS on fresh connections, whichever worker takes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { makeCa, type TestCa } from '../support/certificates.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { freePort, oneModelYaml } from '../support/sluice-process.js';
import { childrenOf, connectionsHeld } from '../support/processes.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-workers-tls-key-01';
const ADMIN_TOKEN = 'admin-token-for-the-workers-tls-test';

describe('sluice start --workers 2 with TLS on the gateway and the admin API', () => {
  let mock: MockProvider;
  let sluice: SluiceProcess;
  let ca: TestCa;
  let gatewayPort: number;
  let adminPort: number;

  before(async () => {
    ca = await makeCa('Sluice Workers TLS Test CA');
    const server = await ca.issue({ subject: 'CN=sluice', server: true });
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hello over TLS')));
    const dir = scratchDir('sluice-workers-tls-');
    writeFileSync(join(dir, 'server.crt'), server.cert);
    writeFileSync(join(dir, 'server.key'), server.key);
    gatewayPort = await freePort();
    adminPort = await freePort();
    const tls = `{ certFile: ${join(dir, 'server.crt')}, keyFile: ${join(dir, 'server.key')} }`;
    writeFileSync(
      join(dir, 'sluice.yaml'),
      `
gateway: { host: 127.0.0.1, port: ${gatewayPort}, tls: ${tls} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: ${ADMIN_TOKEN}, tls: ${tls} }
storage: sqlite:${join(dir, 'sluice.db')}
${oneModelYaml(mock.url, KEY)}
`,
    );
    sluice = runSluice(['start', '--workers', '2', '--config', join(dir, 'sluice.yaml')], {
      SLUICE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    await waitFor(sluice.output, /sluice workers are listening/, 90_000);
  });

  after(async () => {
    if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('the OpenAI SDK is served over HTTPS, its keep-alive connections spread over both workers', { timeout: 60_000 }, async () => {
    const dispatcher = new Agent({ connect: { ca: ca.cert }, connections: 16 });
    try {
      const viaAgent = ((url: string, init?: Record<string, unknown>) =>
        undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch;
      const client = new OpenAI({ apiKey: KEY, baseURL: `https://127.0.0.1:${gatewayPort}/v1`, maxRetries: 0, fetch: viaAgent });
      // 16 calls at once open the pool's 16 connections together, as an SDK's pool does under load.
      const answers = await Promise.all(
        Array.from({ length: 16 }, () =>
          client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
        ),
      );
      assert.deepEqual([...new Set(answers.map((answer) => answer.choices[0]!.message.content))], ['hello over TLS']);
      const workers = childrenOf(sluice.child.pid!);
      assert.equal(workers.length, 2);
      const held = workers.map((pid) => connectionsHeld(pid, gatewayPort));
      assert.equal(
        held.reduce((sum, count) => sum + count, 0),
        16,
      );
      assert.ok(
        held.every((count) => count > 0),
        `both workers hold connections (${held.join(', ')})`,
      );
      assert.equal(connectionsHeld(sluice.child.pid!, gatewayPort), 0, 'the primary hands every connection on');
    } finally {
      await dispatcher.close();
    }
  });

  test('the admin API answers over HTTPS on fresh connections, whichever worker takes them', { timeout: 60_000 }, async () => {
    for (let i = 0; i < 6; i++) {
      // A new agent each time: a connection of its own, so both workers take some.
      const dispatcher = new Agent({ connect: { ca: ca.cert } });
      try {
        const health = await undiciFetch(`https://127.0.0.1:${adminPort}/healthz`, { dispatcher });
        assert.equal(health.status, 200);
        assert.equal(((await health.json()) as { status: string }).status, 'ok');
        const consumers = await undiciFetch(`https://127.0.0.1:${adminPort}/api/consumers`, {
          dispatcher,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        assert.equal(consumers.status, 200);
        assert.match(await consumers.text(), /checkout-service/);
      } finally {
        await dispatcher.close();
      }
    }
  });

  test('a connection that does not speak TLS gets no answer in plain HTTP from either listener', { timeout: 60_000 }, async () => {
    for (const port of [gatewayPort, adminPort]) {
      const received = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nhost: sluice\r\nconnection: close\r\n\r\n'));
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('error', () => resolve(text));
        socket.on('close', () => resolve(text));
      });
      assert.doesNotMatch(received, /^HTTP\/1\.1 200/, `port ${port}`);
    }
    assert.equal(await stopSluice(sluice), 0);
  });
});
