// OpenAI's Realtime API is reached over HTTP too, not only by WebSocket: a WebRTC call posts its SDP offer in a form
// whose `session` field (JSON) names the model (POST /v1/realtime/calls), the beta posts the SDP alone with the model in
// the query (POST /v1/realtime?model=...), and a browser's ephemeral key is made with the session, model included, in
// the JSON body (POST /v1/realtime/client_secrets). The discovery proxy reads the model in each, so enforce mode refuses
// a session with a refused model before it is made, and both modes inventory it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FormData } from 'undici';
import { json } from '../support/mock-provider.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const SDP = 'v=0\r\no=- 4227147428 1719357865 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

describe('discovery: Realtime sessions made over HTTP', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), (request, res) => {
      if (request.path.startsWith('/v1/realtime/client_secrets'))
        json(res, 200, { value: 'ek_not_real', expires_at: 1_800_000_000, session: { type: 'realtime', model: 'gpt-realtime' } });
      else {
        res.writeHead(201, { 'content-type': 'application/sdp', location: '/v1/realtime/calls/rtc_1' });
        res.end(SDP);
      }
    });
    enforcing = await startTestDiscovery(
      {
        mode: 'enforce',
        ...interceptingTo(tls, ['api.openai.com'], mock.port),
      },
      {
        providers: { openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-unused-not-real' } },
        resources: { 'openai/gpt-realtime': 'sanctioned', 'openai/gpt-4o-realtime-preview': 'unsanctioned' },
      },
    );
  });

  after(async () => {
    await enforcing.stop();
    await mock.close();
  });

  const post = async (path: string, body: string | FormData, contentType?: string) => {
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const response = await proxied.fetch(`https://api.openai.com${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-realtime-not-real', ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      body: body as unknown as RequestInit['body'],
    });
    const text = await response.text();
    await proxied.dispatcher.close();
    return { status: response.status, text };
  };
  const call = (model: string) => {
    const form = new FormData();
    form.append('sdp', SDP);
    form.append('session', JSON.stringify({ type: 'realtime', model, audio: { output: { voice: 'marin' } } }));
    return form;
  };

  test('a WebRTC call (a form with the SDP and the session) with an unsanctioned model is refused; a sanctioned one is made', async () => {
    const seen = mock.received.length;
    const refused = await post('/v1/realtime/calls', call('gpt-4o-realtime-preview'));
    assert.equal(refused.status, 403);
    assert.match(refused.text, /"code":"model_not_sanctioned"/);
    assert.equal(mock.received.length, seen);

    enforcing.aggregator.drain();
    const made = await post('/v1/realtime/calls', call('gpt-realtime'));
    assert.equal(made.status, 201);
    assert.equal(made.text, SDP);
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'openai')?.model, 'gpt-realtime');
  });

  test('an SDP offer posted with the model in the query (the beta) with an unsanctioned model is refused', async () => {
    const seen = mock.received.length;
    const refused = await post('/v1/realtime?model=gpt-4o-realtime-preview', SDP, 'application/sdp');
    assert.equal(refused.status, 403);
    assert.equal(mock.received.length, seen);
  });

  test("an ephemeral key (the openai SDK's realtime.clientSecrets.create) for an unsanctioned model is refused", async () => {
    const seen = mock.received.length;
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new OpenAI({
      apiKey: 'sk-realtime-not-real',
      baseURL: 'https://api.openai.com/v1',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await assert.rejects(
      client.realtime.clientSecrets.create({ session: { type: 'realtime', model: 'gpt-4o-realtime-preview' } }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        return true;
      },
    );
    assert.equal(mock.received.length, seen);
    const secret = await client.realtime.clientSecrets.create({ session: { type: 'realtime', model: 'gpt-realtime' } });
    await proxied.dispatcher.close();
    assert.equal(secret.value, 'ek_not_real');
  });
});
