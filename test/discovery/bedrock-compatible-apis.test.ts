// Bedrock serves more than Converse and InvokeModel: OpenAI's APIs (`/openai/v1/...` on bedrock-runtime; `/v1/...` and
// `/openai/v1/...` on bedrock-mantle) and Anthropic's Messages API (`/anthropic/v1/messages` on both), where Claude Opus
// 4.7 and later are served. These name their model in the body and answer in OpenAI's or Anthropic's shape, so the
// discovery proxy reads them as those wires: the model, the tokens, and in enforce mode a refusal the client's SDK reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json } from '../support/mock-provider.js';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import {
  connectTunnel,
  HttpsMock,
  proxiedFetch,
  startTestDiscovery,
  tlsFixture,
  type TlsFixture,
  interceptingTo,
} from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const RUNTIME = 'bedrock-runtime.us-east-1.amazonaws.com';
const MANTLE = 'bedrock-mantle.us-east-1.api.aws';

describe("discovery: Bedrock's OpenAI-compatible and Anthropic Messages APIs", () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;
  let observing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([RUNTIME, MANTLE]), (request, res) => {
      const body = request.body as { model?: string };
      if (request.path.endsWith('/anthropic/v1/messages')) {
        json(res, 200, {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'text', text: 'Hello.' }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 21, output_tokens: 4 },
        });
        return;
      }
      json(res, 200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1_796_630_000,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 17, completion_tokens: 3, total_tokens: 20 },
      });
    });
    const rest = {
      providers: { bedrock: { type: 'bedrock', region: 'us-east-1', accessKeyId: 'AKIDNOTREAL', secretAccessKey: 'not-a-real-secret' } },
      resources: {
        'bedrock/openai.gpt-oss-120b-1:0': 'sanctioned',
        'bedrock/openai.gpt-oss-20b-1:0': 'unsanctioned',
        'bedrock/anthropic.claude-opus-4-7': 'sanctioned',
        'bedrock/anthropic.claude-3-opus-20240229-v1:0': 'unsanctioned',
      },
      resourcePolicy: { unsanctioned: 'enforce', unreviewed: 'enforce' },
    };
    const discovery = (mode: string) => ({ mode, ...interceptingTo(tls, [RUNTIME, MANTLE], mock.port) });
    enforcing = await startTestDiscovery(discovery('enforce'), rest);
    observing = await startTestDiscovery(discovery('observe'), rest);
  });

  after(async () => {
    await enforcing.stop();
    await observing.stop();
    await mock.close();
  });

  const openai = async (discovery: RunningDiscovery, baseURL: string, model: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new OpenAI({ baseURL, apiKey: 'bedrock-api-key-not-real', fetch: proxied.fetch, maxRetries: 0 });
    try {
      return await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    } finally {
      await proxied.dispatcher.close();
    }
  };

  const anthropic = async (discovery: RunningDiscovery, baseURL: string, model: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new Anthropic({ baseURL, apiKey: 'bedrock-api-key-not-real', fetch: proxied.fetch, maxRetries: 0 });
    try {
      return await client.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    } finally {
      await proxied.dispatcher.close();
    }
  };

  test('observe: OpenAI chat on bedrock-runtime and on bedrock-mantle is inventoried with its model and tokens', async () => {
    for (const baseURL of [`https://${RUNTIME}/openai/v1`, `https://${MANTLE}/v1`, `https://${MANTLE}/openai/v1`]) {
      observing.aggregator.drain();
      const answer = await openai(observing, baseURL, 'openai.gpt-oss-20b-1:0');
      assert.equal(answer.choices[0]!.message.content, 'Hello.');
      const seen = observing.aggregator.drain().find((item) => item.provider === 'bedrock');
      assert.equal(seen?.model, 'openai.gpt-oss-20b-1:0', baseURL);
      assert.equal(seen?.inputTokens, 17, baseURL);
      assert.equal(seen?.outputTokens, 3, baseURL);
    }
  });

  test("observe: Anthropic's Messages API on bedrock-mantle and bedrock-runtime is inventoried with its model and tokens", async () => {
    for (const baseURL of [`https://${MANTLE}/anthropic`, `https://${RUNTIME}/anthropic`]) {
      observing.aggregator.drain();
      const answer = await anthropic(observing, baseURL, 'anthropic.claude-opus-4-7');
      assert.equal(answer.content[0]!.type, 'text');
      const seen = observing.aggregator.drain().find((item) => item.provider === 'bedrock');
      assert.equal(seen?.model, 'anthropic.claude-opus-4-7', baseURL);
      assert.equal(seen?.inputTokens, 21, baseURL);
      assert.equal(seen?.outputTokens, 4, baseURL);
    }
  });

  test("enforce: an unsanctioned model is refused in the client's own error shape and never reaches Bedrock", async () => {
    const seen = mock.received.length;
    await assert.rejects(openai(enforcing, `https://${MANTLE}/v1`, 'openai.gpt-oss-20b-1:0'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 403);
      assert.match(error.message, /bedrock\/openai\.gpt-oss-20b-1:0/);
      return true;
    });
    await assert.rejects(anthropic(enforcing, `https://${MANTLE}/anthropic`, 'anthropic.claude-3-opus-20240229-v1:0'), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.status, 403);
      assert.equal((error.error as { error?: { type?: string } }).error?.type, 'permission_error');
      return true;
    });
    assert.equal(mock.received.length, seen);
    // A sanctioned one goes on.
    assert.equal((await openai(enforcing, `https://${RUNTIME}/openai/v1`, 'openai.gpt-oss-120b-1:0')).model, 'openai.gpt-oss-120b-1:0');
    assert.equal(
      (await anthropic(enforcing, `https://${MANTLE}/anthropic`, 'anthropic.claude-opus-4-7')).model,
      'anthropic.claude-opus-4-7',
    );
  });

  /** A call sent by hand (its path exactly as written: fetch and the SDKs resolve dot segments), its status and body. */
  const rawCall = async (discovery: RunningDiscovery, host: string, path: string, body: unknown) => {
    const { socket } = await connectTunnel(discovery.port, `${host}:443`);
    const text = JSON.stringify(body);
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpsRequest(
        {
          host,
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(text)),
            authorization: 'Bearer not-real',
          },
          createConnection: () => tlsConnect({ socket, servername: host, ca: tls.orgCaPem }),
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.on('error', reject);
      request.end(text);
    });
  };

  test('enforce: a path with dot segments or empty segments, which the origin may resolve to another API, is refused', async () => {
    const seen = mock.received.length;
    const converse = { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
    const refused = 'anthropic.claude-3-opus-20240229-v1:0';
    for (const path of [
      `/anthropic/../model/${refused}/converse`,
      `/openai/v1/../../model/${refused}/converse`,
      `/v1/%2e%2e/model/${refused}/converse`,
      `/anthropic/.%2E/model/${refused}/converse`,
      `//model/${refused}/converse`,
      `/model//${refused}/converse`,
      `/model/${refused}/./converse`,
    ]) {
      const answer = await rawCall(enforcing, RUNTIME, path, converse);
      assert.equal(answer.status, 400, path);
      assert.match(answer.body, /path/, path);
    }
    assert.equal(mock.received.length, seen, 'Bedrock received none of them');
  });
});
