// Gemini Live sessions through the discovery proxy: a WebSocket to Google's BidiGenerateContent (the Gemini API's, and
// Vertex AI's LlmBidiService) names its model in the client's first message, `{"setup": {"model": ...}}`, after the
// switch. The proxy reads that message (text or binary, fragmented, compressed with permessage-deflate), so the
// session is inventoried with its model, and in enforce mode a session with a refused model is closed (1008) before
// the origin sees its setup, while a sanctioned one carries messages both ways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyAgent, WebSocket } from 'undici';
import { counter, HttpsMock, interceptingTo, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import { clientFrame, deflatedMessage, MockLiveOrigin, RawWebSocketClient, type ServerFrame } from '../support/mock-live.js';
import { until } from '../support/until.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import { keyFingerprint } from '../../src/policy/discovery.js';

const GEMINI = 'generativelanguage.googleapis.com';
const VERTEX = 'us-central1-aiplatform.googleapis.com';
const GEMINI_LIVE = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
const VERTEX_LIVE = '/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent';
const SANCTIONED = 'gemini-2.0-flash-live-001';
const UNSANCTIONED = 'gemini-2.5-flash-native-audio-preview-09-2025';

const setup = (model: string) => JSON.stringify({ setup: { model, generationConfig: { responseModalities: ['TEXT'] } } });
const turn = (text: string) => JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });

/**
 * A Live session with undici's WebSocket through the proxy: the setup on open, then each next message once the server
 * answers the last, then a close; what the server sent, and how the session was closed.
 */
async function liveSession(
  proxyUrl: string,
  caPem: string,
  url: string,
  messages: Array<string | Buffer>,
): Promise<{ received: unknown[]; code: number; reason: string }> {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
  const socket = new WebSocket(url, {
    dispatcher,
    headers: { 'x-goog-api-key': 'AIza-live-not-real' },
  } as ConstructorParameters<typeof WebSocket>[1]);
  const received: unknown[] = [];
  const queue = [...messages];
  const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
    socket.onopen = () => socket.send(queue.shift()!);
    socket.onmessage = (event) => {
      received.push(JSON.parse(String(event.data)));
      const next = queue.shift();
      if (next === undefined) socket.close(1000);
      else socket.send(next);
    };
    socket.onclose = (event) => resolve({ code: event.code, reason: event.reason });
    socket.onerror = () => reject(new Error('the WebSocket failed'));
  });
  await dispatcher.close();
  return { received, ...closed };
}

/** A close frame's code and reason. */
function closeOf(frame: ServerFrame | null): { code: number; reason: string } {
  assert.ok(frame !== null, 'a close frame');
  assert.equal(frame.opcode, 0x8);
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** `text` as a message in three fragments (the last two continuations), a ping between the first two. */
function fragmented(payload: Buffer, options: { binary?: boolean; rsv1?: boolean } = {}): Buffer[] {
  const third = Math.ceil(payload.length / 3);
  return [
    clientFrame(options.binary === true ? 0x2 : 0x1, payload.subarray(0, third), { fin: false, rsv1: options.rsv1 ?? false }),
    clientFrame(0x9, Buffer.from('are you there')),
    clientFrame(0x0, payload.subarray(third, 2 * third), { fin: false }),
    clientFrame(0x0, payload.subarray(2 * third)),
  ];
}

describe('discovery: Gemini Live sessions', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let origin: MockLiveOrigin;
  let observing: RunningDiscovery;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    origin = new MockLiveOrigin();
    mock = await HttpsMock.start(await tls.serverCert([GEMINI, VERTEX]), (_request, res) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.end('{"error":{"code":426,"message":"WebSocket only","status":"FAILED_PRECONDITION"}}');
    });
    mock.onUpgrade(origin.handle);
    observing = await startTestDiscovery({ ...interceptingTo(tls, [GEMINI, VERTEX], mock.port), sessionSetupTimeoutMs: 500 });
    enforcing = await startTestDiscovery(
      { mode: 'enforce', ...interceptingTo(tls, [GEMINI, VERTEX], mock.port), sessionSetupTimeoutMs: 500, maxParseBytes: 64 * 1024 },
      {
        providers: { gemini: { type: 'gemini', apiKey: 'AIza-live-not-real' } },
        resources: { [`gemini/${SANCTIONED}`]: 'sanctioned', [`gemini/${UNSANCTIONED}`]: 'unsanctioned' },
      },
    );
  });

  after(async () => {
    await observing.stop();
    await enforcing.stop();
    await mock.close();
  });

  test("the Gemini API's Live session is inventoried with the model its setup names, and messages pass both ways", async () => {
    observing.aggregator.drain();
    const session = await liveSession(observing.url, tls.orgCaPem, `wss://${GEMINI}${GEMINI_LIVE}`, [
      setup(`models/${SANCTIONED}`),
      turn('hello'),
    ]);
    assert.equal(session.code, 1000);
    assert.deepEqual(session.received, [
      { setupComplete: {} },
      { serverContent: { modelTurn: { role: 'model', parts: [{ text: 'echo:hello' }] }, turnComplete: true } },
    ]);
    assert.deepEqual(origin.sessions.at(-1), [JSON.parse(setup(`models/${SANCTIONED}`)), JSON.parse(turn('hello'))]);
    const [observation, ...others] = observing.aggregator.drain();
    assert.equal(others.length, 0);
    assert.equal(observation!.provider, 'gemini');
    assert.equal(observation!.model, SANCTIONED);
    assert.equal(observation!.calls, 1);
    assert.equal(observation!.source.keyFingerprint, keyFingerprint('AIza-live-not-real'));
  });

  test("Vertex AI's Live session, its setup sent as a binary message naming a publisher model, is inventoried by the model's id", async () => {
    observing.aggregator.drain();
    const model = 'projects/sluice-test/locations/us-central1/publishers/google/models/gemini-2.0-flash-live-preview-04-09';
    const session = await liveSession(observing.url, tls.orgCaPem, `wss://${VERTEX}${VERTEX_LIVE}`, [Buffer.from(setup(model))]);
    assert.deepEqual(session.received, [{ setupComplete: {} }]);
    const observation = observing.aggregator.drain().find((item) => item.provider === 'vertex');
    assert.equal(observation?.model, 'gemini-2.0-flash-live-preview-04-09');
  });

  test('a setup compressed with permessage-deflate and sent in fragments is read; the origin gets it as sent', async () => {
    origin.deflate = true;
    try {
      observing.aggregator.drain();
      const client = await RawWebSocketClient.open(observing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, true);
      assert.match(client.extensions, /^permessage-deflate/);
      client.send(...fragmented(deflatedMessage(setup(`models/${SANCTIONED}`)), { rsv1: true }));
      const answer = await client.next();
      assert.equal(answer?.payload.toString('utf8'), '{"setupComplete":{}}');
      client.destroy();
      assert.deepEqual(origin.sessions.at(-1), [JSON.parse(setup(`models/${SANCTIONED}`))]);
      // Observing, the setup goes on as it is read (its inflating may finish after the origin's answer).
      let items: ReturnType<RunningDiscovery['aggregator']['drain']> = [];
      await until('the session is inventoried', () => (items = observing.aggregator.drain()).length > 0);
      assert.equal(items.find((item) => item.provider === 'gemini')?.model, SANCTIONED);
    } finally {
      origin.deflate = false;
    }
  });

  test('a session whose setup does not come within sessionSetupTimeoutMs is inventoried naming no model', async () => {
    observing.aggregator.drain();
    const client = await RawWebSocketClient.open(observing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, false);
    let items: ReturnType<RunningDiscovery['aggregator']['drain']> = [];
    await until('the session is inventoried', () => (items = observing.aggregator.drain()).length > 0);
    assert.equal(items[0]!.provider, 'gemini');
    assert.equal(items[0]!.model, 'unknown');
    client.destroy();
  });

  test('enforce: a session whose setup names an unsanctioned model is closed 1008, and the origin never sees the setup', async () => {
    const blocked = await counter(enforcing.metrics.calls, { provider: 'gemini', outcome: 'blocked' });
    const sessions = origin.sessions.length;
    const session = await liveSession(enforcing.url, tls.orgCaPem, `wss://${GEMINI}${GEMINI_LIVE}`, [setup(`models/${UNSANCTIONED}`)]);
    assert.equal(session.code, 1008);
    assert.match(session.reason, new RegExp(`gemini/${UNSANCTIONED} is not sanctioned`));
    assert.deepEqual(session.received, []);
    // The origin switched protocols (the handshake went on) but got no message of the session.
    assert.equal(origin.sessions.length, sessions + 1);
    assert.deepEqual(origin.sessions.at(-1), []);
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'gemini', outcome: 'blocked' }), blocked + 1);
  });

  test('enforce: a session with a sanctioned model is passed on, messages flowing both ways, and inventoried', async () => {
    enforcing.aggregator.drain();
    const session = await liveSession(enforcing.url, tls.orgCaPem, `wss://${GEMINI}${GEMINI_LIVE}`, [
      setup(`models/${SANCTIONED}`),
      turn('one'),
      turn('two'),
    ]);
    assert.equal(session.code, 1000);
    assert.equal(session.received.length, 3);
    assert.deepEqual(session.received[2], {
      serverContent: { modelTurn: { role: 'model', parts: [{ text: 'echo:two' }] }, turnComplete: true },
    });
    assert.equal(origin.sessions.at(-1)?.length, 3);
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'gemini')?.model, SANCTIONED);
  });

  test('enforce: fragmented and compressed setups are read too, a refused one closed, a sanctioned one passed on', async () => {
    origin.deflate = true;
    try {
      const refused = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, true);
      refused.send(...fragmented(Buffer.from(setup(`models/${UNSANCTIONED}`)), { binary: true }));
      assert.equal(closeOf(await refused.next()).code, 1008);
      assert.deepEqual(origin.sessions.at(-1), []);
      refused.destroy();

      const passed = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, true);
      passed.send(...fragmented(deflatedMessage(setup(`models/${SANCTIONED}`)), { rsv1: true }));
      assert.equal((await passed.next())?.payload.toString('utf8'), '{"setupComplete":{}}');
      passed.send(clientFrame(0x1, Buffer.from(turn('after'))));
      assert.match((await passed.next())?.payload.toString('utf8') ?? '', /echo:after/);
      passed.destroy();
    } finally {
      origin.deflate = false;
    }
  });

  test('enforce: a setup that does not come in time, or is over maxParseBytes, is closed 1008 (fail closed)', async () => {
    const silent = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, false);
    const late = closeOf(await silent.next());
    assert.equal(late.code, 1008);
    assert.match(late.reason, /did not come within 500 ms/);
    silent.destroy();

    const large = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, false);
    const instruction = 'x'.repeat(80 * 1024);
    large.send(clientFrame(0x1, Buffer.from(JSON.stringify({ setup: { model: `models/${SANCTIONED}`, systemInstruction: instruction } }))));
    const tooLarge = closeOf(await large.next());
    assert.equal(tooLarge.code, 1008);
    assert.match(tooLarge.reason, /over 65536 bytes/);
    assert.deepEqual(origin.sessions.at(-1), []);
    large.destroy();
  });

  test('enforce: a session on a path the Live paths do not match as written (percent-encoded, another spelling) or naming a model in its query is still read', async () => {
    for (const path of [
      '/ws/google.ai.generativelanguage.v1beta.GenerativeService.%42idiGenerateContent',
      '/ws/google.ai.generativelanguage.v1beta.GenerativeService/BidiGenerateContent',
      // A model in the query is not what the session runs: its setup is.
      `${GEMINI_LIVE}?model=models/${SANCTIONED}`,
    ]) {
      const sessions = origin.sessions.length;
      const client = await RawWebSocketClient.open(enforcing.port, GEMINI, path, tls.orgCaPem, false);
      client.send(clientFrame(0x1, Buffer.from(setup(`models/${UNSANCTIONED}`))));
      const closed = await client.next();
      client.destroy();
      assert.equal(closed?.opcode, 0x8, path);
      assert.equal(closeOf(closed).code, 1008, path);
      assert.deepEqual(origin.sessions.slice(sessions).flat(), [], path);
    }
  });

  test('enforce: a setup repeating a key (its model, or the setup itself) is closed 1008: which one Google reads is not known', async () => {
    for (const message of [
      `{"setup":{"model":"models/${UNSANCTIONED}","model":"models/${SANCTIONED}"}}`,
      `{"setup":{"model":"models/${UNSANCTIONED}"},"setup":{"model":"models/${SANCTIONED}"}}`,
      `{"setup":{"model":"models/${UNSANCTIONED}","mod\\u0065l":"models/${SANCTIONED}"}}`,
    ]) {
      const sessions = origin.sessions.length;
      const client = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, false);
      client.send(clientFrame(0x1, Buffer.from(message)));
      const closed = closeOf(await client.next());
      client.destroy();
      assert.equal(closed.code, 1008, message);
      assert.match(closed.reason, /repeats a key/, message);
      assert.deepEqual(origin.sessions.slice(sessions).flat(), [], message);
    }
  });

  test('enforce: a setup that is not valid UTF-8 is closed 1008, not read with its bad bytes replaced', async () => {
    // Read leniently, `models/{refused}\xff` is `{refused}\uFFFD`: a name no policy lists, though another decoder may drop the byte.
    const message = Buffer.concat([Buffer.from(`{"setup":{"model":"models/${UNSANCTIONED}`), Buffer.from([0xff]), Buffer.from('"}}')]);
    for (const opcode of [0x1, 0x2]) {
      const sessions = origin.sessions.length;
      const client = await RawWebSocketClient.open(enforcing.port, GEMINI, GEMINI_LIVE, tls.orgCaPem, false);
      client.send(clientFrame(opcode, message));
      const closed = closeOf(await client.next());
      client.destroy();
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /not valid UTF-8/);
      assert.deepEqual(origin.sessions.slice(sessions).flat(), []);
    }
  });
});
