// A mock Bedrock runtime: recomputes each request's SigV4 signature with the maintained signer and refuses a wrong
// one, as AWS does; answers Converse as JSON and ConverseStream as real AWS event-stream frames. And a mock of Bedrock's
// Messages API (bedrock-mantle), signed for its own service name or carrying a Bedrock API key.
import type { ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { json, MockProvider, type Received, type Responder } from './mock-provider.js';

export const AWS_TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLETESTONLY', secretAccessKey: 'test-secret-not-real/abc' };
export const AWS_TEST_REGION = 'us-east-1';
/** The Bedrock API key the mock bedrock-mantle takes as `Authorization: Bearer` in place of a signature. */
export const BEDROCK_TEST_API_KEY = 'bedrock-api-key-test-only-0001';

const SIGNATURE_MISMATCH = {
  body: { message: 'The request signature we calculated does not match the signature you provided.' },
  headers: { 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
};

export type BedrockAnswer = (
  modelId: string,
  stream: boolean,
  request: Received,
  res: ServerResponse,
  operation: string,
) => void | Promise<void>;

export async function startMockBedrock(answer: BedrockAnswer): Promise<MockProvider & { signatureFailures: number }> {
  const signer = new SignatureV4({ service: 'bedrock', region: AWS_TEST_REGION, credentials: AWS_TEST_CREDENTIALS, sha256: Sha256 });
  const state = { signatureFailures: 0 };
  const mock = await MockProvider.start(async (request, res) => {
    if (!(await signatureIsValid(signer, request))) {
      state.signatureFailures++;
      return json(res, 403, SIGNATURE_MISMATCH.body, SIGNATURE_MISMATCH.headers);
    }
    const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(request.path);
    if (match === null) return json(res, 404, { message: `no route ${request.path}` });
    await answer(decodeURIComponent(match[1]!), match[2] === 'converse-stream', request, res, match[2]!);
  });
  return Object.defineProperty(mock, 'signatureFailures', { get: () => state.signatureFailures }) as MockProvider & {
    signatureFailures: number;
  };
}

/**
 * Bedrock's Messages API: POST /anthropic/v1/messages, SigV4-signed for the service "bedrock-mantle" (or a Bedrock API
 * key as a bearer token), the `anthropic-version` header required; `answer` gets every request that passes.
 */
export async function startMockBedrockMantle(answer: Responder): Promise<MockProvider & { signatureFailures: number }> {
  const signer = new SignatureV4({
    service: 'bedrock-mantle',
    region: AWS_TEST_REGION,
    credentials: AWS_TEST_CREDENTIALS,
    sha256: Sha256,
  });
  const state = { signatureFailures: 0 };
  const mock = await MockProvider.start(async (request, res) => {
    const byKey = request.headers.authorization === `Bearer ${BEDROCK_TEST_API_KEY}`;
    if (!byKey && !(await signatureIsValid(signer, request))) {
      state.signatureFailures++;
      return json(res, 403, SIGNATURE_MISMATCH.body, SIGNATURE_MISMATCH.headers);
    }
    if (request.method !== 'POST' || request.path !== '/anthropic/v1/messages')
      return json(res, 404, { message: `no route ${request.path}` });
    if (request.headers['anthropic-version'] !== '2023-06-01') {
      return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
    }
    await answer(request, res);
  });
  return Object.defineProperty(mock, 'signatureFailures', { get: () => state.signatureFailures }) as MockProvider & {
    signatureFailures: number;
  };
}

async function signatureIsValid(signer: SignatureV4, request: Received): Promise<boolean> {
  const authorization = String(request.headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (signedHeaders.length === 0 || when === null) return false;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name] ?? '');
  const [host, port] = String(request.headers.host).split(':');
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: host!,
      port: Number(port),
      path: request.path,
      query: {},
      headers,
      body: request.rawBody,
    },
    { signingDate: new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`) },
  );
  return expected.headers.authorization === authorization;
}

export function converseAnswer(text: string, usage = { inputTokens: 30, outputTokens: 8 }) {
  return {
    output: { message: { role: 'assistant', content: [{ text }] } },
    stopReason: 'end_turn',
    usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens },
    metrics: { latencyMs: 120 },
  };
}

export function converseToolAnswer(name: string, input: Record<string, unknown>) {
  return {
    output: { message: { role: 'assistant', content: [{ text: 'Checking.' }, { toolUse: { toolUseId: 'tooluse_1', name, input } }] } },
    stopReason: 'tool_use',
    usage: { inputTokens: 55, outputTokens: 20, totalTokens: 75 },
  };
}

/** The frames of a ConverseStream answer: text pieces, or a tool use whose input arrives in pieces. */
export function converseStreamFrames(pieces: string[], tool?: { name: string; inputPieces: string[] }): Uint8Array[] {
  const frames = [encodeAwsEvent('messageStart', { role: 'assistant' })];
  pieces.forEach((text) => frames.push(encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })));
  if (pieces.length > 0) frames.push(encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }));
  if (tool !== undefined) {
    const index = pieces.length > 0 ? 1 : 0;
    frames.push(
      encodeAwsEvent('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: 'tooluse_s1', name: tool.name } } }),
    );
    tool.inputPieces.forEach((input) =>
      frames.push(encodeAwsEvent('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input } } })),
    );
    frames.push(encodeAwsEvent('contentBlockStop', { contentBlockIndex: index }));
  }
  frames.push(encodeAwsEvent('messageStop', { stopReason: tool === undefined ? 'end_turn' : 'tool_use' }));
  frames.push(encodeAwsEvent('metadata', { usage: { inputTokens: 33, outputTokens: 9, totalTokens: 42 }, metrics: { latencyMs: 200 } }));
  return frames;
}

export async function sendFrames(res: ServerResponse, frames: Uint8Array[], gapMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
  for (const frame of frames) {
    res.write(frame);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  res.end();
}
