// Upstreams that echo credentials back: every configured or obtained credential, in any of its forms, is taken out of
// what Sluice passes on (client answers, in-band stream errors, log lines, the ledger, /metrics), whatever its shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, openaiStreamFrames, sse, anthropicStreamFrames } from '../support/mock-provider.js';
import { capturedLogger, KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

const BOOTSTRAP = 'sa-bootstrap-redaction-token-0123456789';
/** Azure keys are hex: no shape-based pattern knows them. */
const AZURE_KEY = randomBytes(20).toString('hex');
/** A key of no known shape, with characters that URL-encoding changes. */
const PLAIN_KEY = `Zq8/Lm+2pX9w${randomBytes(9).toString('base64url')}`;
const TENANT_TOKEN = `tenant-${randomBytes(12).toString('hex')}`;
const CLAUDE_KEY = `house-${randomBytes(16).toString('base64url')}`;
const STORED_KEY = `stored-${randomBytes(16).toString('hex')}`;
const AWS_SECRET = `aws/${randomBytes(15).toString('base64')}`;
const AWS_SESSION = `FwoGZXIvYXdzE${randomBytes(30).toString('base64')}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** A line from the middle of the service account's private key, as an error might quote it. */
const PEM_LINE = PRIVATE_PEM.split('\n')[5]!;
/** Vertex's OAuth tokens are minted while Sluice runs: no config holds them. */
const mintedTokens: string[] = [];

/** Every secret, and a prefix of each: a key cut in half by a length limit leaks as surely as a whole one. */
function secrets(): string[] {
  const whole = [
    AZURE_KEY,
    PLAIN_KEY,
    encodeURIComponent(PLAIN_KEY),
    TENANT_TOKEN,
    CLAUDE_KEY,
    STORED_KEY,
    AWS_SECRET,
    AWS_SESSION,
    PEM_LINE,
    ...mintedTokens,
  ];
  return [...whole, ...whole.map((secret) => secret.slice(0, 14))];
}

function assertNoSecret(text: string, where: string): void {
  for (const secret of secrets()) assert.ok(!text.includes(secret), `${where} holds ${secret}:\n${text.slice(0, 2_000)}`);
}

describe('credentials echoed by upstreams', () => {
  let upstream: MockProvider;
  let tokenEndpoint: MockProvider;
  let sluice: TestSluice;
  const log = capturedLogger();
  /** Every byte the clients received. */
  const answers: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    answers.push(`${response.status} ${JSON.stringify([...response.headers])}\n${await response.clone().text()}`);
    return response;
  };
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    tokenEndpoint = await MockProvider.start((_request, res) => {
      const token = `minted-${randomBytes(16).toString('hex')}`;
      mintedTokens.push(token);
      json(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    });
    upstream = await MockProvider.start(async (request, res) => {
      const bearer = String(request.headers.authorization ?? '');
      if (request.path.startsWith('/azure/')) {
        const message = `Access denied due to invalid subscription key ${String(request.headers['api-key'])}. Make sure to provide a valid key.`;
        return json(res, request.path.includes('/deployments/fails/') ? 500 : 400, { error: { code: '401', message } });
      }
      if (request.path.startsWith('/plain/')) {
        const model = String(request.body.model);
        if (model === 'echo-401') {
          // A proxy that quotes everything it holds, another provider's key included.
          return json(res, 401, {
            error: {
              message: `Incorrect API key provided: ${bearer}; tenant ${String(request.headers['x-tenant-token'])}; query key=${encodeURIComponent(PLAIN_KEY)}; upstream ${CLAUDE_KEY}`,
              type: 'invalid_request_error',
            },
          });
        }
        if (model === 'echo-text') {
          // Not JSON: the body itself becomes the message, cut at 300 characters right through the key.
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end(`proxy error ${'.'.repeat(270)} ${bearer}`);
          return;
        }
        if (model === 'stream-error') {
          const frames = openaiStreamFrames(['Hel'], null).slice(0, 2);
          return sse(res, [
            ...frames,
            `data: ${JSON.stringify({ error: { message: `credentials revoked mid-stream: ${bearer}`, type: 'server_error' } })}\n\n`,
          ]);
        }
      }
      if (request.path.startsWith('/claude/')) {
        const frames = anthropicStreamFrames(['Bon']).slice(0, 4);
        const error = {
          type: 'error',
          error: { type: 'overloaded_error', message: `key ${String(request.headers['x-api-key'])} is overloaded` },
        };
        return sse(res, [...frames, `event: error\ndata: ${JSON.stringify(error)}\n\n`]);
      }
      if (request.path.startsWith('/stored/')) {
        return json(res, 400, { error: { message: `this deployment does not accept ${bearer}`, type: 'invalid_request_error' } });
      }
      if (request.path.startsWith('/bedrock/')) {
        return json(
          res,
          400,
          { message: `The security token ${String(request.headers['x-amz-security-token'])} is invalid; secret ${AWS_SECRET}` },
          { 'x-amzn-errortype': 'ValidationException' },
        );
      }
      if (request.path.includes('/publishers/google/')) {
        if (request.path.includes(':streamGenerateContent')) {
          return sse(res, [
            `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Str' }] } }] })}\n\n`,
            `data: ${JSON.stringify({ error: { code: 401, message: `token ${bearer} expired`, status: 'UNAUTHENTICATED' } })}\n\n`,
          ]);
        }
        return json(res, 400, { error: { code: 400, message: `bad token ${bearer}; key line ${PEM_LINE}`, status: 'INVALID_ARGUMENT' } });
      }
      json(res, 404, { error: { message: `no route ${request.path}` } });
    });
    const accountFile = join(scratchDir('sluice-sa-'), 'account.json');
    writeFileSync(
      accountFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'proj-1',
        client_email: 'sluice@proj-1.iam.gserviceaccount.com',
        private_key: PRIVATE_PEM,
        token_uri: `${tokenEndpoint.url}/token`,
      }),
    );
    sluice = await startTestSluice(
      {
        admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
        providers: {
          azure: { type: 'azure-openai', baseUrl: `${upstream.url}/azure`, apiKey: AZURE_KEY, apiVersion: '2024-10-21' },
          plain: { type: 'openai', baseUrl: `${upstream.url}/plain/v1`, apiKey: PLAIN_KEY, headers: { 'x-tenant-token': TENANT_TOKEN } },
          claude: { type: 'anthropic', baseUrl: `${upstream.url}/claude`, apiKey: CLAUDE_KEY },
          bedrock: {
            type: 'bedrock',
            baseUrl: `${upstream.url}/bedrock`,
            region: 'us-east-1',
            accessKeyId: 'AKIDREDACTIONTEST',
            secretAccessKey: AWS_SECRET,
            sessionToken: AWS_SESSION,
          },
          vertex: { type: 'vertex', baseUrl: upstream.url, serviceAccountFile: accountFile },
        },
        models: [
          { name: 'gpt-4o-mini', targets: [{ provider: 'plain', model: 'echo-401' }] },
          { name: 'azure-rejects', targets: [{ provider: 'azure', model: 'rejects' }] },
          { name: 'azure-fails', targets: [{ provider: 'azure', model: 'fails' }] },
          { name: 'echo-401', targets: [{ provider: 'plain', model: 'echo-401' }] },
          { name: 'echo-text', targets: [{ provider: 'plain', model: 'echo-text' }] },
          { name: 'stream-error', targets: [{ provider: 'plain', model: 'stream-error' }] },
          { name: 'claude-stream-error', targets: [{ provider: 'claude', model: 'claude-3-5-haiku-20241022' }] },
          { name: 'bedrock-rejects', targets: [{ provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' }] },
          { name: 'vertex-rejects', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        ],
      },
      { logger: log.logger },
    );
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0, fetch: recording });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0, fetch: recording });
  });

  after(async () => {
    await sluice.stop();
    await upstream.close();
    await tokenEndpoint.close();
  });

  /** The error a chat call ends in, as the OpenAI SDK reports it. */
  async function openaiError(model: string, stream = false): Promise<InstanceType<typeof OpenAI.APIError>> {
    try {
      if (stream) {
        for await (const _chunk of await openai.chat.completions.create({
          model,
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }));
      } else {
        await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      }
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      return error;
    }
    assert.fail(`${model} answered without an error`);
  }

  async function anthropicError(model: string): Promise<InstanceType<typeof Anthropic.APIError>> {
    try {
      const stream = anthropic.messages.stream({ model, max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
      for await (const _event of stream);
    } catch (error) {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      return error;
    }
    assert.fail(`${model} answered without an error`);
  }

  test('a 40-hex Azure key in a rejection (400) and in a failure (500) reaches the client as [redacted]', async () => {
    const rejected = await openaiError('azure-rejects');
    assert.equal(rejected.status, 400);
    assert.match(rejected.message, /invalid subscription key \[redacted\]/);
    const failed = await openaiError('azure-fails');
    assert.equal(failed.status, 502);
    assert.match(failed.message, /invalid subscription key \[redacted\]/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test("a key of no known shape, its Bearer and URL-encoded forms, a custom header and another provider's key", async () => {
    const error = await openaiError('echo-401');
    assert.equal(error.status, 502);
    assert.match(
      error.message,
      /Incorrect API key provided: Bearer \[redacted\]; tenant \[redacted\]; query key=\[redacted\]; upstream \[redacted\]/,
    );
    assert.equal(upstream.received.at(-1)!.headers.authorization, `Bearer ${PLAIN_KEY}`, 'the upstream did get the key it echoed');
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('a key that a plain-text body ends with, where the 300-character cut falls inside it', async () => {
    const error = await openaiError('echo-text');
    assert.equal(error.status, 502);
    assert.match(error.message, /Bearer \[redacted\]/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('in-band stream error events: OpenAI relayed as is, Anthropic relayed as is, and both translated', async () => {
    const relayed = await openaiError('stream-error', true);
    assert.match(relayed.message, /credentials revoked mid-stream: Bearer \[redacted\]/);
    const translated = await anthropicError('stream-error');
    assert.match(translated.message, /Bearer \[redacted\]/);
    const claudeRelayed = await anthropicError('claude-stream-error');
    assert.match(claudeRelayed.message, /key \[redacted\] is overloaded/);
    const claudeTranslated = await openaiError('claude-stream-error', true);
    assert.match(claudeTranslated.message, /key \[redacted\] is overloaded/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('AWS secret access key and session token', async () => {
    const error = await openaiError('bedrock-rejects');
    assert.equal(error.status, 400);
    assert.match(error.message, /The security token \[redacted\] is invalid; secret \[redacted\]/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('Vertex: the OAuth token minted at runtime and the private key read from a file', async () => {
    const error = await openaiError('vertex-rejects');
    assert.equal(error.status, 400);
    assert.match(error.message, /bad token Bearer \[redacted\]; key line \[redacted\]/);
    assert.equal(mintedTokens.length, 1);
    const streamed = await openaiError('vertex-rejects', true);
    assert.match(streamed.message, /token Bearer \[redacted\] expired/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('credentials held sealed in the director store', async () => {
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${sluice.adminURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal(
      (await admin('POST', '/api/providers', { name: 'stored', type: 'openai', baseUrl: `${upstream.url}/stored/v1`, apiKey: STORED_KEY }))
        .status,
      201,
    );
    assert.equal((await admin('POST', '/api/models', { name: 'stored-model', targets: [{ provider: 'stored', model: 'm' }] })).status, 201);
    const error = await openaiError('stored-model');
    assert.equal(error.status, 400);
    assert.match(error.message, /does not accept Bearer \[redacted\]/);
    assertNoSecret(answers.join('\n'), 'the client answers');
  });

  test('none of them is in the log, the ledger file or /metrics', async () => {
    await sluice.sluice.settled();
    const lines = log.lines();
    assert.ok(
      lines.some((line) => line.includes('upstream trouble') && line.includes('[redacted]')),
      'the failures were logged, redacted',
    );
    assertNoSecret(lines.join(''), 'the log');
    const dir = dirname(sluice.dbPath);
    const stored = readdirSync(dir)
      .filter((file) => file.startsWith('sluice.db'))
      .map((file) => readFileSync(join(dir, file)).toString('latin1'))
      .join('\n');
    assert.ok(stored.includes('azure-rejects'), 'the ledger holds the calls');
    assertNoSecret(stored, 'the SQLite file');
    assertNoSecret(await (await fetch(`${sluice.adminURL}/metrics`)).text(), '/metrics');
  });
});
