// Sluice in front of every provider reached by translation from Anthropic's Messages API (OpenAI, Gemini, Bedrock, and
// Vertex for Gemini and Claude), each a mock that records what it received and answers a plain text; a test adds how a
// mock refuses what the real provider refuses (`refuse`), and reads what each target was sent.
import { converseAnswer, AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from './mock-bedrock.js';
import { anthropicMessage, json, MockProvider, openaiCompletion, type Received } from './mock-provider.js';
import { testServiceAccountJson } from './google.js';
import { startTestSluice, type TestSluice } from './sluice.js';

/** Sluice model name -> the provider and model it is served by. */
export const TRANSLATED_MODELS = {
  gpt: { provider: 'openai', model: 'gpt-4o-mini' },
  gemini: { provider: 'gemini', model: 'gemini-2.5-flash' },
  'vertex-gemini': { provider: 'vertex', model: 'gemini-2.5-flash' },
  'vertex-claude': { provider: 'vertex', model: 'claude-sonnet-4-5@20250929' },
  'bedrock-claude': { provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
  'bedrock-claude-4-7': { provider: 'bedrock', model: 'global.anthropic.claude-opus-4-7' },
  'bedrock-nova': { provider: 'bedrock', model: 'us.amazon.nova-pro-v1:0' },
  'bedrock-llama': { provider: 'bedrock', model: 'us.meta.llama3-3-70b-instruct-v1:0' },
} as const;

export type TranslatedModel = keyof typeof TRANSLATED_MODELS;

/** A refusal a mock answers with, as the real provider would, or null to answer. */
export type Refusal = (model: TranslatedModel, received: Received) => { status: number; body: unknown } | null;

export interface TranslatedTargets {
  sluice: TestSluice;
  /** The last body a model's provider received for it. */
  sent(model: TranslatedModel): Record<string, unknown>;
  /** Sets what the mocks refuse from now on. */
  refuse(refusal: Refusal | null): void;
  stop(): Promise<void>;
}

const GEMINI_ANSWER = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'from Gemini' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 3, totalTokenCount: 12 },
  modelVersion: 'gemini-2.5-flash',
};

export async function startTranslatedTargets(): Promise<TranslatedTargets> {
  let refusal: Refusal | null = null;
  const last = new Map<TranslatedModel, Record<string, unknown>>();
  const modelOf = (provider: string, model: string): TranslatedModel =>
    (Object.keys(TRANSLATED_MODELS) as TranslatedModel[]).find(
      (name) => TRANSLATED_MODELS[name].provider === provider && TRANSLATED_MODELS[name].model === model,
    )!;
  // Answers unless the test's refusal says otherwise; records the body under the Sluice model name it was meant for.
  const answer = (model: TranslatedModel, received: Received, ok: () => void, send: (status: number, body: unknown) => void) => {
    last.set(model, received.body);
    const refused = refusal?.(model, received) ?? null;
    if (refused !== null) send(refused.status, refused.body);
    else ok();
  };
  const openaiMock = await MockProvider.start((request, res) =>
    answer(
      modelOf('openai', String(request.body.model)),
      request,
      () => json(res, 200, openaiCompletion('from GPT')),
      (status, body) => json(res, status, body),
    ),
  );
  const geminiMock = await MockProvider.start((request, res) =>
    answer(
      'gemini',
      request,
      () => json(res, 200, GEMINI_ANSWER),
      (status, body) => json(res, status, body),
    ),
  );
  const tokenEndpoint = await MockProvider.start((_request, res) =>
    json(res, 200, { access_token: 'ya29.test-token', expires_in: 3600, token_type: 'Bearer' }),
  );
  const vertexMock = await MockProvider.start((request, res) => {
    const claude = request.path.includes('/publishers/anthropic/');
    answer(
      claude ? 'vertex-claude' : 'vertex-gemini',
      request,
      () => json(res, 200, claude ? anthropicMessage('from Claude on Vertex') : GEMINI_ANSWER),
      (status, body) => json(res, status, body),
    );
  });
  const bedrockMock = await startMockBedrock((modelId, _stream, request, res) =>
    answer(
      modelOf('bedrock', modelId),
      request,
      () => json(res, 200, converseAnswer('from Bedrock')),
      (status, body) => json(res, status, body, { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/' }),
    ),
  );
  const sluice = await startTestSluice({
    providers: {
      openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
      vertex: { type: 'vertex', baseUrl: vertexMock.url, serviceAccountJson: testServiceAccountJson(`${tokenEndpoint.url}/token`) },
      bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
    },
    models: [
      ...Object.entries(TRANSLATED_MODELS).map(([name, target]) => ({ name, targets: [target] })),
      // Never called: the test config's second consumer may use gpt-4o-mini.
      { name: 'gpt-4o-mini', targets: [TRANSLATED_MODELS.gpt] },
    ],
  });
  return {
    sluice,
    sent: (model) => {
      const body = last.get(model);
      if (body === undefined) throw new Error(`${model}'s provider received nothing`);
      return body;
    },
    refuse: (next) => {
      refusal = next;
    },
    stop: async () => {
      await sluice.stop();
      await Promise.all([openaiMock.close(), geminiMock.close(), tokenEndpoint.close(), vertexMock.close(), bedrockMock.close()]);
    },
  };
}
