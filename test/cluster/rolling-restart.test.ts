// A rolling restart of two gateways behind a load balancer loses no request, with real processes: two `sluice start`
// processes (one worker each, own SQLite ledgers) behind a small round-robin HTTP proxy written here, steady traffic
// from clients, and each gateway in turn sent SIGTERM (a graceful drain), then started again on the same port.
//
// The proxy does what a real load balancer with health checks and retries does (nginx's proxy_next_upstream with
// `error` and `http_503 non_idempotent`, Envoy's retry on connect-failure and 503): a request whose connection to one
// gateway is refused or reset before any answer, or that a draining gateway refused with 503 `shutting_down` ("retry on
// another instance"), is sent to the other gateway. Each request goes on a connection of its own to the gateway, so a
// request is never lost on a keep-alive connection the draining gateway closes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { freePort, oneModelYaml } from '../support/sluice-process.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-rolling-key-000001';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to one gateway on a connection of its own; rejects when no answer came (refused, reset). */
function forward(port: number, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, connection: 'close' }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The round-robin proxy: retries on the other gateway as described at the top; counts the retries. */
async function roundRobinProxy(ports: number[]): Promise<{ server: Server; port: number; retries: () => number }> {
  let next = 0;
  let retries = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const first = next++ % ports.length;
      for (let attempt = 0; attempt < 20; attempt++) {
        const port = ports[(first + attempt) % ports.length]!;
        try {
          const answer = await forward(port, req.method ?? 'GET', req.url ?? '/', req.headers, body);
          if (answer.status === 503 && answer.body.includes('shutting_down')) throw new Error('draining');
          const { connection: _connection, 'transfer-encoding': _encoding, ...headers } = answer.headers;
          res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
          res.end(answer.body);
          return;
        } catch {
          retries++;
          // Both gateways away at once would be an outage; during a rolling restart one is always up.
          if (attempt % ports.length === ports.length - 1) await sleep(50);
        }
      }
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0, retries: () => retries };
}

describe('a rolling restart of two gateways behind a proxy', () => {
  let mock: MockProvider;
  const gateways: Array<{ file: string; dbPath: string; port: number; sluice?: SluiceProcess }> = [];
  let proxy: Awaited<ReturnType<typeof roundRobinProxy>>;

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
    const dir = scratchDir('sluice-rolling-');
    for (const name of ['one', 'two']) {
      const dbPath = join(dir, `${name}.db`);
      const port = await freePort();
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: 0, token: admin-token-for-the-rolling-test }
storage: sqlite:${dbPath}
ledger: { flushIntervalMs: 100 }
${oneModelYaml(mock.url, KEY)}
`,
      );
      gateways.push({ file, dbPath, port });
    }
    proxy = await roundRobinProxy(gateways.map(({ port }) => port));
  });

  after(async () => {
    for (const { sluice } of gateways) if (sluice !== undefined && sluice.child.exitCode === null) await stopSluice(sluice);
    proxy?.server.closeAllConnections();
    await new Promise((resolve) => proxy?.server.close(resolve));
    await mock.close();
  });

  const start = async (gateway: (typeof gateways)[number]) => {
    gateway.sluice = runSluice(['start', '--config', gateway.file], { SLUICE_MASTER_KEY: Buffer.alloc(32, 6).toString('base64') });
    await waitFor(gateway.sluice.output, /sluice is listening/, 60_000);
  };

  test(
    'each gateway in turn drained and started again: every request answered 200, one ledger row each',
    { timeout: 180_000 },
    async () => {
      await Promise.all(gateways.map(start));
      const answered: string[] = [];
      const others: string[] = [];
      let load = true;
      let next = 0;
      const callers = Array.from({ length: 6 }, async () => {
        while (load) {
          const id = `rolling-${next++}`;
          try {
            const response = await fetch(`http://127.0.0.1:${proxy.port}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
              body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
              signal: AbortSignal.timeout(20_000),
            });
            const text = await response.text();
            if (response.status === 200) answered.push(id);
            else others.push(`${id}: ${response.status} ${text.slice(0, 200)}`);
          } catch (error) {
            others.push(`${id}: ${(error as Error).message}`);
          }
        }
      });
      try {
        await until('calls are answered', () => answered.length >= 100);
        for (const gateway of gateways) {
          const exitCode = await stopSluice(gateway.sluice!);
          assert.equal(exitCode, 0, gateway.sluice!.output());
          const whileDown = answered.length;
          await until('calls are answered while one gateway is down', () => answered.length >= whileDown + 50);
          await start(gateway);
          const restarted = answered.length;
          await until('calls are answered after the restart', () => answered.length >= restarted + 100);
        }
      } finally {
        load = false;
        await Promise.all(callers);
      }
      assert.deepEqual(others, [], 'every request answered 200');
      assert.ok(proxy.retries() > 0, 'the proxy did meet a gateway that was away');
      for (const { sluice } of gateways) assert.equal(await stopSluice(sluice!), 0);
      // Between them, the two ledgers hold exactly one 200 row per answered request; any other row is a 503 shutting_down
      // refusal the proxy then retried on the other gateway (recorded, as every refusal of a known consumer is).
      const rows = gateways.flatMap(({ dbPath }) => {
        const db = new Database(dbPath, { readonly: true });
        const ledger = db.prepare('SELECT request_id, status, error_class FROM transactions').all() as Array<{
          request_id: string;
          status: number;
          error_class: string | null;
        }>;
        db.close();
        return ledger;
      });
      const ok = rows.filter((row) => row.status === 200).map((row) => row.request_id);
      assert.equal(ok.length, answered.length, 'one 200 row per answered request');
      assert.deepEqual(ok.sort(), [...answered].sort());
      assert.deepEqual(
        rows.filter((row) => row.status !== 200).filter((row) => row.status !== 503 || !answered.includes(row.request_id)),
        [],
        'any other row is a refusal while draining, of a request answered by the other gateway',
      );
      process.stdout.write(
        `# rolling restart: ${answered.length} requests answered, ${ok.length} ledger rows, ${proxy.retries()} proxy retries\n`,
      );
    },
  );
});
