// Azure OpenAI runs the deployment its path names, whatever model the body names: the discovery proxy checks both, so a
// body naming a sanctioned model cannot carry a call to a deployment named after an unsanctioned one (the official
// openai SDK's AzureOpenAI client sends its `deployment` in the path and the request's `model` in the body).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import OpenAI, { AzureOpenAI } from 'openai';
import { json, openaiCompletion } from '../support/mock-provider.js';
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

const HOST = 'contoso.openai.azure.com';

describe('discovery: Azure OpenAI deployments are checked beside the body model', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([HOST]), (_request, res) => json(res, 200, openaiCompletion('ok')));
    enforcing = await startTestDiscovery(
      {
        mode: 'enforce',
        ...interceptingTo(tls, [HOST], mock.port),
      },
      {
        providers: {
          'azure-openai': { type: 'azure-openai', baseUrl: `https://${HOST}`, apiKey: 'azure-key-not-real', apiVersion: '2024-10-21' },
        },
        resources: {
          'azure-openai/gpt-4o-mini': 'sanctioned',
          'azure-openai/gpt-4o': 'unsanctioned',
          'azure-openai/gpt-4o-realtime-preview-unsanctioned': 'unsanctioned',
        },
      },
    );
  });

  after(async () => {
    await enforcing.stop();
    await mock.close();
  });

  const azure = (deployment: string) => {
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new AzureOpenAI({
      endpoint: `https://${HOST}`,
      apiKey: 'azure-key-not-real',
      apiVersion: '2024-10-21',
      deployment,
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    return { client, close: () => proxied.dispatcher.close() };
  };

  test('a body naming a sanctioned model sent to a deployment named after an unsanctioned one is refused', async () => {
    const seen = mock.received.length;
    const { client, close } = azure('gpt-4o');
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        assert.match(error.message, /azure-openai\/gpt-4o /);
        return true;
      },
    );
    await close();
    assert.equal(mock.received.length, seen);
  });

  test('the same body sent to the sanctioned deployment goes on', async () => {
    const { client, close } = azure('gpt-4o-mini');
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await close();
    assert.equal(answer.choices[0]!.message.content, 'ok');
    assert.match(mock.received.at(-1)!.path, /^\/openai\/deployments\/gpt-4o-mini\/chat\/completions/);
  });

  test('a Realtime session (WebSocket) to a deployment named after an unsanctioned model is refused before it opens', async () => {
    const upgrades: string[] = [];
    mock.onUpgrade((req, socket) => {
      upgrades.push(req.url ?? '');
      socket.destroy();
    });
    const handshake = async (deployment: string) => {
      const { socket } = await connectTunnel(enforcing.port, `${HOST}:443`);
      const secure = tlsConnect({ socket, ca: tls.orgCaPem, servername: HOST, ALPNProtocols: ['http/1.1'] });
      await new Promise((resolve) => secure.once('secureConnect', resolve));
      secure.write(
        `GET /openai/realtime?api-version=2024-10-01-preview&deployment=${deployment} HTTP/1.1\r\nHost: ${HOST}\r\n` +
          'api-key: azure-key-not-real\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      const chunks: Buffer[] = [];
      for await (const chunk of secure) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    };
    const answer = await handshake('gpt-4o-realtime-preview-unsanctioned');
    assert.match(answer, /^HTTP\/1\.1 403 /);
    assert.match(answer, /"code":"model_not_sanctioned"/);
    assert.deepEqual(upgrades, [], 'the origin saw no handshake');
  });
});
