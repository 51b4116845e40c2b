// Anthropic's Message Batches name a model in each request's params, not at the top of the body: the discovery proxy
// reads every one, so enforce mode refuses a batch that names a refused model anywhere in it (the Anthropic SDK's
// messages.batches.create), and a batch of sanctioned models goes on and is inventoried with its model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { json } from '../support/mock-provider.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const BATCH = {
  id: 'msgbatch_01',
  type: 'message_batch',
  processing_status: 'in_progress',
  request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  ended_at: null,
  created_at: '2026-12-06T00:00:00Z',
  expires_at: '2026-12-07T00:00:00Z',
  archived_at: null,
  cancel_initiated_at: null,
  results_url: null,
};

describe('discovery: Anthropic Message Batches', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.anthropic.com']), (_request, res) => json(res, 200, BATCH));
    enforcing = await startTestDiscovery(
      {
        mode: 'enforce',
        ...interceptingTo(tls, ['api.anthropic.com'], mock.port),
      },
      {
        providers: { anthropic: { type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-unused-not-real' } },
        resources: { 'anthropic/claude-3-opus-20240229': 'unsanctioned' },
      },
    );
  });

  after(async () => {
    await enforcing.stop();
    await mock.close();
  });

  const request = (id: string, model: string) => ({
    custom_id: id,
    params: { model, max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] },
  });

  test('a batch naming an unsanctioned model in one of its requests is refused with a permission_error', async () => {
    const seen = mock.received.length;
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new Anthropic({
      apiKey: 'sk-ant-batches-not-real',
      baseURL: 'https://api.anthropic.com',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await assert.rejects(
      client.messages.batches.create({
        requests: [request('a', 'claude-sonnet-4-5'), request('b', 'claude-3-opus-20240229')],
      }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.PermissionDeniedError);
        assert.match(error.message, /claude-3-opus-20240229/);
        return true;
      },
    );
    await proxied.dispatcher.close();
    assert.equal(mock.received.length, seen, 'Anthropic saw nothing');
  });

  test('a batch of sanctioned models goes on and is inventoried with its model', async () => {
    enforcing.aggregator.drain();
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new Anthropic({
      apiKey: 'sk-ant-batches-not-real',
      baseURL: 'https://api.anthropic.com',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    const batch = await client.messages.batches.create({
      requests: [request('a', 'claude-sonnet-4-5'), request('b', 'claude-sonnet-4-5')],
    });
    await proxied.dispatcher.close();
    assert.equal(batch.id, 'msgbatch_01');
    assert.equal(mock.received.at(-1)!.path, '/v1/messages/batches');
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'anthropic')?.model, 'claude-sonnet-4-5');
  });
});
