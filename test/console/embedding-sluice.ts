// One Sluice for the console's tests of calls under a micro-USD: a loopback mock provider answering embeddings with the
// prompt tokens `tokensOf` states for an input (text-embedding-3-small at $0.02 per 1M tokens: 20 nano-USD a token),
// SQLite in a temp folder, and `embed` calling it through the openai SDK as checkout-service until the ledger has them.
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

export interface EmbeddingSluice {
  sluice: TestSluice;
  consoleURL: string;
  embed: (...inputs: string[]) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startEmbeddingSluice(bootstrap: string, tokensOf: (input: string) => number): Promise<EmbeddingSluice> {
  const mock = await MockProvider.start((request, res) => {
    const tokens = tokensOf(String(request.body.input));
    json(res, 200, {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  });
  const sluice = await startTestSluice({
    admin: { host: '127.0.0.1', port: 0, token: bootstrap },
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [
      { name: 'text-embedding-3-small', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    ],
  }).catch(async (error: unknown) => {
    await mock.close();
    throw error;
  });
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  return {
    sluice,
    consoleURL: `${sluice.adminURL}/console/`,
    embed: async (...inputs) => {
      for (const input of inputs) await client.embeddings.create({ model: 'text-embedding-3-small', input });
      await sluice.sluice.settled();
    },
    stop: async () => {
      await sluice.stop();
      await mock.close();
    },
  };
}
