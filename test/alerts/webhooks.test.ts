// Budget alert webhooks against real loopback receivers: signing, retries, give-up, fan-out, and what the logs leave out.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { BudgetAlert } from '../../src/alerts/alert-event.js';
import { signWebhook, verifyWebhookSignature, WebhookNotifier, type DeliveryOutcome } from '../../src/alerts/webhooks.js';
import { ProviderTargets } from '../../src/config/provider-targets.js';
import { until } from '../support/until.js';

const SECRET = 'whsec-test-secret-not-real-3f9a1c';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback: records every delivery, answers as scripted by attempt number (1-based). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  url = '';
  /** Connections open to this receiver now. */
  openConnections = 0;
  private readonly server: Server;

  private constructor(private readonly respond: (attempt: number, res: ServerResponse) => void) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.deliveries.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        this.respond(this.deliveries.length, res);
      });
    });
    this.server.on('connection', (socket) => {
      this.openConnections++;
      socket.on('close', () => this.openConnections--);
    });
  }

  /** Offers keep-alive for two minutes (the hint a client honours): a connection the client leaves open stays open. */
  keepIdleConnections(): this {
    this.server.keepAliveTimeout = 120_000;
    return this;
  }

  static async start(respond: (attempt: number, res: ServerResponse) => void = (_n, res) => answer(res, 204)): Promise<Receiver> {
    const receiver = new Receiver(respond);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ status }));
}

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function memoryLogger(): { logger: Logger; text: () => string; lines: () => LogLine[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return { logger, text, lines };
}

function alert(overrides: Partial<BudgetAlert> = {}): BudgetAlert {
  return {
    id: randomUUID(),
    type: 'budget.threshold_crossed',
    at: '2025-03-14T09:26:53.000Z',
    budget: 'per-team/payments',
    template: 'per-team',
    consumers: 'team payments',
    resources: 'model gpt-4o',
    measure: 'cost_usd',
    mode: 'enforce',
    thresholdPercent: 80,
    limit: 500,
    used: 401.25,
    window: { kind: 'month', start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
    ...overrides,
  };
}

describe('budget alert webhooks', () => {
  const receivers: Receiver[] = [];
  const notifiers: WebhookNotifier[] = [];

  async function receiver(respond?: (attempt: number, res: ServerResponse) => void): Promise<Receiver> {
    const started = await Receiver.start(respond);
    receivers.push(started);
    return started;
  }

  function notifier(...args: ConstructorParameters<typeof WebhookNotifier>): WebhookNotifier {
    const created = new WebhookNotifier(...args);
    notifiers.push(created);
    return created;
  }

  after(async () => {
    await Promise.all(notifiers.map((n) => n.close()));
    await Promise.all(receivers.map((r) => r.close()));
  });

  test('delivers a signed event that the receiver verifies; a wrong secret, a changed body or an old timestamp do not', async () => {
    const hook = await receiver();
    const outcomes: DeliveryOutcome[] = [];
    const { logger } = memoryLogger();
    const alerts = notifier([{ url: `${hook.url}/hooks/budget`, secret: SECRET, headers: { 'X-Receiver-Tag': 'finance' } }], {
      logger,
      backoffMs: 5,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    const event = alert();
    const returned: unknown = alerts.send(event);
    assert.equal(returned, undefined);
    assert.equal(alerts.pending, 1);
    assert.equal(await alerts.drain(), true);
    assert.equal(alerts.pending, 0);
    assert.deepEqual(outcomes, ['delivered']);

    assert.equal(hook.deliveries.length, 1);
    const delivery = hook.deliveries[0]!;
    assert.equal(delivery.path, '/hooks/budget');
    assert.equal(delivery.headers['content-type'], 'application/json');
    assert.equal(delivery.headers['user-agent'], 'sluice');
    assert.equal(delivery.headers['x-sluice-event-id'], event.id);
    assert.equal(delivery.headers['x-receiver-tag'], 'finance');
    assert.deepEqual(JSON.parse(delivery.body), event);
    assert.equal(delivery.body, JSON.stringify(event));

    const timestamp = delivery.headers['x-sluice-timestamp'];
    const signature = delivery.headers['x-sluice-signature'];
    assert.match(String(timestamp), /^\d+$/);
    assert.match(String(signature), /^v1=[0-9a-f]{64}$/);
    assert.equal(signature, signWebhook(SECRET, Number(timestamp), delivery.body));
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body, signature), true);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, Buffer.from(delivery.body, 'utf8'), signature), true);
    assert.equal(verifyWebhookSignature('not-the-secret', timestamp, delivery.body, signature), false);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body.replace('401.25', '1.25'), signature), false);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body, signature, 300, (Number(timestamp) + 301) * 1000), false);
    assert.equal(verifyWebhookSignature(SECRET, String(Number(timestamp) + 1), delivery.body, signature), false);
    assert.equal(verifyWebhookSignature(SECRET, undefined, delivery.body, signature), false);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body, undefined), false);
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body, 'v1=zz'), false);
    // Several signatures (a receiver rotating secrets): any match passes.
    assert.equal(verifyWebhookSignature(SECRET, timestamp, delivery.body, `v1=${'0'.repeat(64)}, ${String(signature)}`), true);
  });

  test('retries after 500 and 503, then succeeds: three attempts with the same event id, each validly signed', async () => {
    const hook = await receiver((attempt, res) => answer(res, attempt === 1 ? 500 : attempt === 2 ? 503 : 200));
    const outcomes: DeliveryOutcome[] = [];
    const alerts = notifier([{ url: hook.url, secret: SECRET }], {
      logger: memoryLogger().logger,
      backoffMs: 5,
      onOutcome: (o) => outcomes.push(o),
    });
    const event = alert();
    alerts.send(event);
    await alerts.drain();
    assert.equal(hook.deliveries.length, 3);
    for (const delivery of hook.deliveries) {
      assert.equal(delivery.headers['x-sluice-event-id'], event.id);
      assert.equal(delivery.body, JSON.stringify(event));
      assert.equal(
        verifyWebhookSignature(SECRET, delivery.headers['x-sluice-timestamp'], delivery.body, delivery.headers['x-sluice-signature']),
        true,
      );
    }
    assert.deepEqual(outcomes, ['retried', 'retried', 'delivered']);
  });

  test('408 and 429 are retried; a Retry-After is honoured up to the cap', async () => {
    const hook = await receiver((attempt, res) => {
      if (attempt === 1) return answer(res, 408);
      if (attempt === 2) return answer(res, 429, { 'retry-after': '3600' });
      return answer(res, 200);
    });
    const outcomes: DeliveryOutcome[] = [];
    const log = memoryLogger();
    const alerts = notifier([{ url: hook.url, secret: SECRET }], {
      logger: log.logger,
      backoffMs: 5,
      maxBackoffMs: 25,
      onOutcome: (o) => outcomes.push(o),
    });
    alerts.send(alert());
    await alerts.drain();
    assert.equal(hook.deliveries.length, 3);
    assert.deepEqual(outcomes, ['retried', 'retried', 'delivered']);
    const retries = log.lines().filter((line) => line.level === 40);
    assert.equal(retries.length, 2);
    assert.equal(retries[0]!.status, 408);
    assert.equal(retries[1]!.status, 429);
    assert.equal(retries[1]!.retryInMs, 25);
  });

  test('does not retry a 400', async () => {
    const hook = await receiver((_n, res) => answer(res, 400));
    const outcomes: DeliveryOutcome[] = [];
    const log = memoryLogger();
    const alerts = notifier([{ url: hook.url, secret: SECRET }], { logger: log.logger, backoffMs: 5, onOutcome: (o) => outcomes.push(o) });
    alerts.send(alert());
    await alerts.drain();
    assert.equal(hook.deliveries.length, 1);
    assert.deepEqual(outcomes, ['failed']);
    const failures = log.lines().filter((line) => line.level === 50);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.status, 400);
  });

  test('gives up after `attempts` and reports failed', async () => {
    const hook = await receiver((_n, res) => answer(res, 502));
    const outcomes: DeliveryOutcome[] = [];
    const alerts = notifier([{ url: hook.url, secret: SECRET }], {
      logger: memoryLogger().logger,
      attempts: 3,
      backoffMs: 5,
      onOutcome: (o) => outcomes.push(o),
    });
    alerts.send(alert());
    await alerts.drain();
    assert.equal(hook.deliveries.length, 3);
    assert.deepEqual(outcomes, ['retried', 'retried', 'failed']);
    assert.equal(alerts.pending, 0);
  });

  test('a webhook on a dead port is retried and finally failed, without throwing', async () => {
    const port = await deadPort();
    const outcomes: DeliveryOutcome[] = [];
    const log = memoryLogger();
    const alerts = notifier([{ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }], {
      logger: log.logger,
      attempts: 3,
      backoffMs: 5,
      onOutcome: (o) => outcomes.push(o),
    });
    assert.doesNotThrow(() => alerts.send(alert()));
    await alerts.drain();
    assert.deepEqual(outcomes, ['retried', 'retried', 'failed']);
    const lines = log.lines();
    assert.equal(lines.filter((line) => line.level === 40).length, 2);
    const failure = lines.find((line) => line.level === 50);
    assert.ok(failure);
    assert.match(String(failure.reason), /connection failed/);
    assert.equal(failure.webhook, `http://127.0.0.1:${port}/hook`);
  });

  test('timeouts are retried, and drain(timeoutMs) gives up waiting without cutting deliveries', async () => {
    const hook = await receiver(() => {
      // Never answers: the delivery times out waiting for headers.
    });
    const outcomes: DeliveryOutcome[] = [];
    const log = memoryLogger();
    const alerts = notifier([{ url: hook.url, secret: SECRET }], {
      logger: log.logger,
      attempts: 2,
      backoffMs: 5,
      timeoutMs: 150,
      onOutcome: (o) => outcomes.push(o),
    });
    alerts.send(alert());
    assert.equal(await alerts.drain(1), false);
    assert.equal(alerts.pending, 1);
    assert.equal(await alerts.drain(), true);
    assert.equal(hook.deliveries.length, 2);
    assert.deepEqual(outcomes, ['retried', 'failed']);
    assert.match(String(log.lines().find((line) => line.level === 50)?.reason), /timed out/);
  });

  test('two webhooks both receive the event', async () => {
    const first = await receiver();
    const second = await receiver();
    const outcomes: DeliveryOutcome[] = [];
    const alerts = notifier(
      [
        { url: first.url, secret: SECRET },
        { url: second.url, secret: 'second-secret-not-real' },
      ],
      { logger: memoryLogger().logger, backoffMs: 5, onOutcome: (o) => outcomes.push(o) },
    );
    const event = alert();
    alerts.send(event);
    assert.equal(alerts.pending, 2);
    await alerts.drain();
    assert.deepEqual(outcomes, ['delivered', 'delivered']);
    for (const [hook, secret] of [
      [first, SECRET],
      [second, 'second-secret-not-real'],
    ] as const) {
      assert.equal(hook.deliveries.length, 1);
      const delivery = hook.deliveries[0]!;
      assert.equal(delivery.headers['x-sluice-event-id'], event.id);
      assert.equal(
        verifyWebhookSignature(secret, delivery.headers['x-sluice-timestamp'], delivery.body, delivery.headers['x-sluice-signature']),
        true,
      );
    }
  });

  test('a webhook taken off the list has its connections closed, however long its receiver offers to keep them', async () => {
    const leaving = (await receiver()).keepIdleConnections();
    const staying = (await receiver()).keepIdleConnections();
    const outcomes: DeliveryOutcome[] = [];
    // As the gateway builds it: guarded by the provider-target policy (loopback allowed here).
    const alerts = notifier([{ url: `${leaving.url}/hook`, secret: SECRET }], {
      logger: memoryLogger().logger,
      targets: new ProviderTargets([], []),
      onOutcome: (o) => outcomes.push(o),
    });
    alerts.send(alert());
    await alerts.drain();
    assert.deepEqual(outcomes, ['delivered']);
    assert.equal(leaving.openConnections, 1, 'kept alive for the next alert while the webhook is listed');

    alerts.setWebhooks([{ url: `${staying.url}/hook`, secret: SECRET }]);
    await until('the connection to the removed webhook is closed', () => leaving.openConnections === 0, 10_000);
    alerts.send(alert());
    await alerts.drain();
    assert.deepEqual(outcomes, ['delivered', 'delivered']);
    assert.equal(staying.deliveries.length, 1);
    assert.equal(leaving.deliveries.length, 1);

    // A list that keeps changing (URLs rotated, many receivers over time) leaves nothing open behind it.
    for (let round = 0; round < 5; round++) {
      const next = (await receiver()).keepIdleConnections();
      alerts.setWebhooks([{ url: `${next.url}/hook`, secret: SECRET }]);
      alerts.send(alert());
      await alerts.drain();
      assert.equal(next.deliveries.length, 1);
    }
    await until(
      'only the listed webhook keeps a connection',
      () => receivers.every((r) => r.openConnections === 0 || r === receivers.at(-1)),
      10_000,
    );
    assert.equal(staying.openConnections, 0);
  });

  test('a webhook taken off the list while a delivery to it is retrying still gets its retry, then its connections close', async () => {
    let alerts: WebhookNotifier | undefined;
    const leaving = (
      await receiver((attempt, res) => {
        // The list changes while the first attempt is on the wire: the delivery under way must still be retried.
        if (attempt === 1) alerts!.setWebhooks([]);
        answer(res, attempt === 1 ? 503 : 204);
      })
    ).keepIdleConnections();
    const outcomes: DeliveryOutcome[] = [];
    alerts = notifier([{ url: leaving.url, secret: SECRET }], {
      logger: memoryLogger().logger,
      backoffMs: 5,
      targets: new ProviderTargets([], []),
      onOutcome: (o) => outcomes.push(o),
    });
    alerts.send(alert());
    await alerts.drain();
    assert.deepEqual(outcomes, ['retried', 'delivered']);
    assert.equal(leaving.deliveries.length, 2);
    await until('the connection to the removed webhook is closed', () => leaving.openConnections === 0, 10_000);
    assert.equal(alerts.webhookCount, 0);
  });

  test('logs one line per outcome and never the secret, the signature, userinfo or the query string', async () => {
    const hook = await receiver((attempt, res) => answer(res, attempt === 1 ? 500 : 200));
    const rejecting = await receiver((_n, res) => answer(res, 403));
    const log = memoryLogger();
    const alerts = notifier(
      [
        {
          url: `${hook.url.replace('http://', 'http://hookuser:hookpass-not-real@')}/in?token=query-token-not-real`,
          secret: SECRET,
          headers: { 'x-extra': 'header-value-not-real' },
        },
        { url: `${rejecting.url}/no?sig=another-query-not-real`, secret: SECRET },
      ],
      { logger: log.logger, backoffMs: 5 },
    );
    const event = alert();
    alerts.send(event);
    await alerts.drain();

    // The query string still reaches the receiver, and the userinfo arrives as Basic auth.
    assert.equal(hook.deliveries.length, 2);
    assert.equal(hook.deliveries[0]!.path, '/in?token=query-token-not-real');
    assert.equal(hook.deliveries[0]!.headers.authorization, `Basic ${Buffer.from('hookuser:hookpass-not-real').toString('base64')}`);

    const lines = log.lines();
    const levels = lines.map((line) => line.level).sort();
    assert.deepEqual(levels, [30, 40, 50]);
    for (const line of lines) {
      assert.equal(line.eventId, event.id);
      assert.equal(line.budget, event.budget);
    }
    assert.deepEqual(new Set(lines.map((line) => line.webhook)), new Set([`${hook.url}/in`, `${rejecting.url}/no`]));

    const text = log.text();
    const signatures = [...hook.deliveries, ...rejecting.deliveries].map((d) => String(d.headers['x-sluice-signature']));
    assert.equal(signatures.length, 3);
    for (const signature of signatures) {
      assert.equal(text.includes(signature), false);
      assert.equal(text.includes(signature.slice(3)), false);
    }
    for (const secret of [
      SECRET,
      'hookuser',
      'hookpass-not-real',
      'query-token-not-real',
      'another-query-not-real',
      'header-value-not-real',
    ]) {
      assert.equal(text.includes(secret), false, `the logs contain ${secret}`);
    }
  });

  test('close() cuts a pending retry short, counts it failed, and later sends are dropped', async () => {
    const hook = await receiver((_n, res) => answer(res, 500));
    const outcomes: DeliveryOutcome[] = [];
    let retried: () => void = () => undefined;
    const firstRetry = new Promise<void>((resolve) => {
      retried = resolve;
    });
    const alerts = new WebhookNotifier([{ url: hook.url, secret: SECRET }], {
      logger: memoryLogger().logger,
      backoffMs: 60_000,
      onOutcome: (outcome) => {
        outcomes.push(outcome);
        if (outcome === 'retried') retried();
      },
    });
    alerts.send(alert());
    await firstRetry;
    assert.equal(alerts.pending, 1);
    await alerts.close();
    assert.equal(alerts.pending, 0);
    assert.deepEqual(outcomes, ['retried', 'failed']);
    alerts.send(alert());
    assert.equal(alerts.pending, 0);
    assert.deepEqual(outcomes, ['retried', 'failed', 'failed']);
    assert.equal(hook.deliveries.length, 1);
  });

  test('a throwing onOutcome callback does not break delivery', async () => {
    const hook = await receiver();
    const alerts = notifier([{ url: hook.url, secret: SECRET }], {
      logger: memoryLogger().logger,
      onOutcome: () => {
        throw new Error('callback bug');
      },
    });
    assert.doesNotThrow(() => alerts.send(alert()));
    await alerts.drain();
    assert.equal(hook.deliveries.length, 1);
  });

  test('rejects webhooks it could never deliver to, without echoing credentials', () => {
    const logger = memoryLogger().logger;
    assert.throws(() => new WebhookNotifier([{ url: 'not a url', secret: SECRET }], { logger }), /webhooks\[0\]\.url is not a valid URL/);
    assert.throws(
      () => new WebhookNotifier([{ url: 'ftp://u:p@example.com/x?q=1', secret: SECRET }], { logger }),
      (error: Error) => {
        assert.match(error.message, /must be http or https/);
        assert.equal(error.message.includes('u:p'), false);
        assert.equal(error.message.includes('q=1'), false);
        return true;
      },
    );
    assert.throws(() => new WebhookNotifier([{ url: 'https://example.com/x', secret: '' }], { logger }), /non-empty secret/);
    assert.throws(() => new WebhookNotifier([], { logger, attempts: 0 }), RangeError);
  });
});
