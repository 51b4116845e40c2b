// `sluice webhooks` run as a user runs it, against a real director: a generated secret is shown once, never listed,
// and is the one the alerts a budget raises are signed with; a secret comes from a file, never from a flag's value;
// the exit codes of refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../src/alerts/webhooks.js';
import { cliFor, emptyDir, row } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000003';

/** A webhook receiver on loopback that keeps every delivery. */
class Receiver {
  readonly deliveries: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  private waiting: Array<() => void> = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        receiver!.deliveries.push({ headers: req.headers, body });
        res.writeHead(204).end();
        for (const wake of receiver!.waiting.splice(0)) wake();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/sluice`);
    return receiver;
  }

  /** Resolves once `count` deliveries have arrived (the test's timeout bounds the wait). */
  async received(count: number): Promise<void> {
    while (this.deliveries.length < count) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('sluice webhooks', () => {
  let mock: MockProvider;
  let receiver: Receiver;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  const call = async () => {
    const answer = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      // max_tokens keeps the reservation within the budgets' limits.
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(answer.status, 200);
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    receiver = await Receiver.start();
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      budgets: [
        {
          name: 'checkout-daily',
          consumers: { consumer: 'checkout-service' },
          resources: { model: 'gpt-4o-mini' },
          measure: 'requests',
          limit: 4,
          window: 'day',
          alerts: [50],
        },
      ],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
  });

  after(async () => {
    await sluice.stop();
    await receiver.close();
    await mock.close();
  });

  test("a webhook's generated secret is shown once and signs the alerts a budget raises; it is never listed", async () => {
    const created = await cli(['webhooks', 'create', receiver.url]);
    assert.equal(created.code, 0, created.stderr);
    const id = /^created webhook (\S+) for /m.exec(created.stdout)?.[1];
    const secret = /^ {2}(\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(id !== undefined && secret !== undefined, created.stdout);
    assert.match(created.stdout, /This secret will not be shown again/);

    const listed = await cli(['webhooks', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+URL\s+CREATED$/m);
    assert.equal(row(listed.stdout, id)?.[1], receiver.url);
    const listedJson = await cli(['webhooks', 'list', '--json']);
    for (const output of [listed.stdout, listedJson.stdout]) assert.ok(!output.includes(secret), 'never the secret again');

    // checkout-daily allows 4 requests a day and alerts at 50%: the second call crosses it.
    await call();
    await call();
    await receiver.received(1);
    const delivery = receiver.deliveries[0]!;
    assert.equal((JSON.parse(delivery.body) as { budget: string }).budget, 'checkout-daily');
    assert.ok(
      verifyWebhookSignature(secret, delivery.headers['x-sluice-timestamp'], delivery.body, delivery.headers['x-sluice-signature']),
      'the printed secret is the one deliveries are signed with',
    );

    const rotated = await cli(['webhooks', 'update', id, '--new-secret', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotatedJson = JSON.parse(rotated.stdout) as { id: string; url: string; secret: string };
    assert.equal(rotatedJson.id, id);
    assert.ok(rotatedJson.secret.length >= 16 && rotatedJson.secret !== secret);
    assert.match(rotated.stderr, /will not be shown again/);

    const moved = await cli(['webhooks', 'update', id, `${receiver.url}/v2`]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `updated webhook ${id} (${receiver.url}/v2)\n`);

    const deleted = await cli(['webhooks', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted webhook ${id}\n`);
    assert.equal((await cli(['webhooks', 'list'])).stdout, 'no webhooks\n');
  });

  test("a webhook secret comes from a file, never from a flag's value; the API's checks exit 1, usage errors 2", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'secret'), 'a-receiver-chosen-secret-0123456789\n', { mode: 0o600 });
    const fromFile = await cli(['webhooks', 'create', 'https://hooks.example.com/sluice', '--secret-file', join(dir, 'secret')]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(
      fromFile.stdout,
      /^created webhook \S+ for https:\/\/hooks\.example\.com\/sluice\n$/,
      'a secret the user gave is not printed',
    );
    assert.ok(!fromFile.stdout.includes('a-receiver-chosen-secret'));

    writeFileSync(join(dir, 'short'), 'too-short', { mode: 0o600 });
    const short = await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret-file', join(dir, 'short')]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^ {2}secret: a secret of at least 16 characters$/m);
    assert.ok(!short.stderr.includes('too-short'), 'a refused secret is not echoed');
    const badUrl = await cli(['webhooks', 'create', 'ftp://hooks.example.com/x']);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /^ {2}url: /m);

    const missing = await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret-file', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --secret-file .*nope \(ENOENT\)/);
    assert.equal((await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret', 'sneaky-secret-value-123'])).code, 2);
    const nothing = await cli(['webhooks', 'update', 'some-id']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /give a new URL, --secret-file or --new-secret/);
    assert.equal((await cli(['webhooks', 'update', 'some-id', '--new-secret', '--secret-file', join(dir, 'secret')])).code, 2);
    assert.equal((await cli(['webhooks', 'delete', 'no-such-webhook'])).code, 1);
  });
});
