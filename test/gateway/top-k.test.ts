// An Anthropic client's top_k reaches every target that has such a setting, in its own field: Gemini (and Gemini on
// Vertex) generationConfig.topK (https://ai.google.dev/api/generate-content#generationconfig); Claude on Vertex top_k;
// Claude on Bedrock top_k and Nova inferenceConfig.topK, both in Converse's additionalModelRequestFields (AWS's Converse
// examples; https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html). Where the model has none
// (OpenAI, Llama on Bedrock), or refuses it (Claude while thinking, Claude 4.7 and later), it is left out, as other
// settings that tune how an answer is made are, and the call is served. The mocks refuse what the real ones refuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { KEYS } from '../support/sluice.js';
import { startTranslatedTargets, type TranslatedModel, type TranslatedTargets } from '../support/translated-targets.js';

function refused(message: string) {
  return { status: 400, body: { message, error: { code: 400, message, status: 'INVALID_ARGUMENT', type: 'invalid_request_error' } } };
}

describe('top_k in translation', () => {
  let targets: TranslatedTargets;
  let anthropic: Anthropic;

  before(async () => {
    targets = await startTranslatedTargets();
    targets.refuse((model, received) => {
      const body = received.body;
      const extra = (body.additionalModelRequestFields ?? {}) as Record<string, unknown>;
      const inference = (body.inferenceConfig ?? {}) as Record<string, unknown>;
      // OpenAI: "Unrecognized request argument supplied: top_k".
      if (model === 'gpt' && body.top_k !== undefined) return refused('Unrecognized request argument supplied: top_k');
      // Claude 4.7 and later take no sampling settings; Claude takes no top_k while thinking.
      if (
        model === 'bedrock-claude-4-7' &&
        (extra.top_k !== undefined || inference.temperature !== undefined || inference.topP !== undefined)
      )
        return refused('`top_k` is deprecated for this model.');
      if (extra.thinking !== undefined && extra.top_k !== undefined) return refused('top_k is not supported when thinking is enabled.');
      // Llama and Nova: a key of Claude's among the model's own fields is refused.
      if ((model === 'bedrock-llama' || model === 'bedrock-nova') && extra.top_k !== undefined)
        return refused('Malformed input request: extraneous key [top_k] is not permitted');
      return null;
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: targets.sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await targets.stop();
  });

  const ask = (model: TranslatedModel, extra: Record<string, unknown> = {}) =>
    anthropic.messages.create({
      model,
      max_tokens: 2048,
      top_k: 20,
      messages: [{ role: 'user', content: 'Name a colour.' }],
      ...extra,
    } as Anthropic.MessageCreateParamsNonStreaming);

  test('Gemini and Gemini on Vertex: generationConfig.topK', async () => {
    for (const model of ['gemini', 'vertex-gemini'] as const) {
      await ask(model);
      assert.equal((targets.sent(model).generationConfig as Record<string, unknown>).topK, 20, model);
    }
  });

  test('Claude on Vertex: top_k', async () => {
    await ask('vertex-claude');
    assert.equal(targets.sent('vertex-claude').top_k, 20);
  });

  test('Claude on Bedrock: additionalModelRequestFields.top_k; Nova: additionalModelRequestFields.inferenceConfig.topK', async () => {
    await ask('bedrock-claude');
    assert.deepEqual(targets.sent('bedrock-claude').additionalModelRequestFields, { top_k: 20 });
    await ask('bedrock-nova');
    assert.deepEqual(targets.sent('bedrock-nova').additionalModelRequestFields, { inferenceConfig: { topK: 20 } });
  });

  test('left out, and the call served, where the model has no top_k or refuses it', async () => {
    const answered = await ask('gpt');
    assert.deepEqual(answered.content, [{ type: 'text', text: 'from GPT' }]);
    assert.equal(targets.sent('gpt').top_k, undefined);
    await ask('bedrock-llama');
    assert.equal(targets.sent('bedrock-llama').additionalModelRequestFields, undefined);
    await ask('bedrock-claude-4-7');
    assert.equal(targets.sent('bedrock-claude-4-7').additionalModelRequestFields, undefined);
    await ask('bedrock-claude', { thinking: { type: 'enabled', budget_tokens: 1024 } });
    assert.deepEqual(targets.sent('bedrock-claude').additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 1024 } });
  });

  test('a top_k that is not a non-negative integer is a 400 naming it, nothing sent', async () => {
    await assert.rejects(
      ask('gemini', { top_k: 2.5 }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /top_k/.test(error.message),
    );
  });
});
