// Bedrock calls whose model is in the body rather than the path: StartAsyncInvoke (`POST /async-invoke`, video and
// other long jobs) names it in `modelId`. The discovery proxy reads it there, refuses an unsanctioned one in Bedrock's
// error shape in enforce mode, and inventories it in both modes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json } from '../support/mock-provider.js';
import { counter, HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const HOST = 'bedrock-runtime.us-east-1.amazonaws.com';

describe('discovery: Bedrock async invocations name their model in the body', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;
  let observing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([HOST]), (_request, res) =>
      json(res, 200, { invocationArn: 'arn:aws:bedrock:us-east-1:123456789012:async-invoke/abc123' }),
    );
    const discovery = (mode: string) => ({
      mode,
      ...interceptingTo(tls, [HOST], mock.port),
    });
    const rest = {
      providers: { bedrock: { type: 'bedrock', region: 'us-east-1', accessKeyId: 'AKIDNOTREAL', secretAccessKey: 'not-a-real-secret' } },
      resources: {
        'bedrock/amazon.nova-reel-v1:1': 'sanctioned',
        'bedrock/luma.ray-v2:0': 'unsanctioned',
        'bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0': 'sanctioned',
        'bedrock/anthropic.claude-3-opus-20240229-v1:0': 'unsanctioned',
      },
      resourcePolicy: { unsanctioned: 'enforce', unreviewed: 'enforce' },
    };
    enforcing = await startTestDiscovery(discovery('enforce'), rest);
    observing = await startTestDiscovery(discovery('observe'), rest);
  });

  after(async () => {
    await enforcing.stop();
    await observing.stop();
    await mock.close();
  });

  const start = async (discovery: RunningDiscovery, modelId: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const response = await proxied.fetch(`https://${HOST}/async-invoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDNOTREAL/20261206/us-east-1/bedrock/aws4_request',
      },
      body: JSON.stringify({
        modelId,
        modelInput: { taskType: 'TEXT_VIDEO', textToVideoParams: { text: 'a fox in the snow' } },
        outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://bucket/out' } },
      }),
    });
    const result = {
      status: response.status,
      type: response.headers.get('x-amzn-errortype'),
      body: (await response.json()) as { message?: string },
    };
    await proxied.dispatcher.close();
    return result;
  };

  test('enforce: an async invocation of an unsanctioned model gets an AccessDeniedException and never reaches Bedrock', async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'bedrock', outcome: 'blocked' });
    const refused = await start(enforcing, 'luma.ray-v2:0');
    assert.equal(refused.status, 403);
    assert.equal(refused.type, 'AccessDeniedException');
    assert.match(refused.body.message ?? '', /bedrock\/luma\.ray-v2:0/);
    assert.equal(mock.received.length, seen);
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'bedrock', outcome: 'blocked' }), blocked + 1);
  });

  test('enforce: an async invocation of a sanctioned model goes on and is inventoried with its model', async () => {
    enforcing.aggregator.drain();
    const passed = await start(enforcing, 'amazon.nova-reel-v1:1');
    assert.equal(passed.status, 200);
    assert.equal(mock.received.at(-1)!.path, '/async-invoke');
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'bedrock')?.model, 'amazon.nova-reel-v1:1');
  });

  test('observe: an async invocation of an unsanctioned model passes and is inventoried with its model', async () => {
    observing.aggregator.drain();
    const passed = await start(observing, 'luma.ray-v2:0');
    assert.equal(passed.status, 200);
    assert.equal(observing.aggregator.drain().find((item) => item.provider === 'bedrock')?.model, 'luma.ray-v2:0');
  });

  const converse = async (modelId: string) => {
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const response = await proxied.fetch(`https://${HOST}/model/${encodeURIComponent(modelId)}/converse`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIDNOTREAL/20261206/us-east-1/bedrock/aws4_request',
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    });
    await response.arrayBuffer();
    await proxied.dispatcher.close();
    return { status: response.status, type: response.headers.get('x-amzn-errortype') };
  };

  test('an inference profile or ARN of a foundation model the policy lists takes that model’s status', async () => {
    const seen = mock.received.length;
    for (const id of [
      'us.anthropic.claude-3-opus-20240229-v1:0',
      'global.anthropic.claude-3-opus-20240229-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-opus-20240229-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0',
    ]) {
      const refused = await converse(id);
      assert.equal(refused.status, 403, id);
      assert.equal(refused.type, 'AccessDeniedException', id);
    }
    assert.equal(mock.received.length, seen, 'Bedrock saw none of them');
    for (const id of ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'apac.anthropic.claude-sonnet-4-5-20250929-v1:0']) {
      assert.equal((await converse(id)).status, 200, `${id}: the sanctioned model through a profile is not unreviewed`);
    }
    // An unlisted model is unreviewed, refused under this policy, whatever profile it is called through.
    assert.equal((await converse('us.meta.llama3-3-70b-instruct-v1:0')).status, 403);
  });
});
