// A JSON body repeating a key: JSON.parse keeps the last value, another parser the first or an error (RFC 8259 4), so
// `{"model":"<refused>","model":"<sanctioned>"}` would be read as the sanctioned model while the provider might run the
// refused one. Enforce mode refuses such a body when the provider has refusals, in the provider's own error shape; in
// observe mode, and for a provider with nothing refused, it passes as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicMessage, json, openaiCompletion } from '../support/mock-provider.js';
import { HttpsMock, interceptingTo, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const HOSTS = ['api.openai.com', 'api.anthropic.com', 'api.mistral.ai'];

describe('discovery: enforce mode refuses a JSON body that repeats a key', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;
  let observing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(HOSTS), (request, res) =>
      request.path === '/v1/messages' ? json(res, 200, anthropicMessage('ok')) : json(res, 200, openaiCompletion('ok')),
    );
    const rest = {
      providers: {
        openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-unused-not-real' },
        anthropic: { type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-unused-not-real' },
      },
      resources: { 'openai/gpt-4o': 'unsanctioned', 'anthropic/claude-3-opus-20240229': 'unsanctioned' },
    };
    enforcing = await startTestDiscovery({ mode: 'enforce', ...interceptingTo(tls, HOSTS, mock.port) }, rest);
    observing = await startTestDiscovery({ mode: 'observe', ...interceptingTo(tls, HOSTS, mock.port) }, rest);
  });

  after(async () => {
    await enforcing.stop();
    await observing.stop();
    await mock.close();
  });

  const post = async (discovery: RunningDiscovery, url: string, body: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    try {
      const response = await proxied.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as { error?: { code?: string; type?: string } } };
    } finally {
      await proxied.dispatcher.close();
    }
  };

  test("enforce: the model named twice is refused in OpenAI's and Anthropic's shapes, and never sent", async () => {
    const seen = mock.received.length;
    const openai = await post(
      enforcing,
      'https://api.openai.com/v1/chat/completions',
      '{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    );
    assert.equal(openai.status, 400);
    assert.equal(openai.body.error?.code, 'repeated_key');
    const anthropic = await post(
      enforcing,
      'https://api.anthropic.com/v1/messages',
      '{"model":"claude-3-opus-20240229","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"model":"claude-haiku-4-5"}',
    );
    assert.equal(anthropic.status, 400);
    assert.equal(anthropic.body.error?.type, 'invalid_request_error');
    // A key repeated deeper in (a message's) is as ambiguous to another parser, and refused too.
    const nested = await post(
      enforcing,
      'https://api.openai.com/v1/chat/completions',
      '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi","content":"there"}]}',
    );
    assert.equal(nested.status, 400);
    assert.equal(mock.received.length, seen);
  });

  test('enforce: the same keys once each pass, and a provider with nothing refused is not checked', async () => {
    const passed = await post(
      enforcing,
      'https://api.openai.com/v1/chat/completions',
      '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    );
    assert.equal(passed.status, 200);
    const mistral = await post(
      enforcing,
      'https://api.mistral.ai/v1/chat/completions',
      '{"model":"mistral-large-latest","model":"mistral-small-latest","messages":[{"role":"user","content":"hi"}]}',
    );
    assert.equal(mistral.status, 200);
  });

  test('observe: a body repeating a key passes', async () => {
    const passed = await post(
      observing,
      'https://api.openai.com/v1/chat/completions',
      '{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    );
    assert.equal(passed.status, 200);
  });
});
