// Stop sequences Converse refuses: an empty one (InferenceConfiguration stopSequences: "Length Constraints: Minimum
// length of 1", https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InferenceConfiguration.html) for any
// model, and for Claude one of only whitespace, which Claude's own validation refuses ("stop_sequences: each stop
// sequence must contain non-whitespace") and Converse passes on as "The model returned the following errors: ...".
// OpenAI takes both, and its clients often send "\n": such a sequence is left out, as it is for Claude on Anthropic's
// API, rather than failing the call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTranslatedTargets, type TranslatedTargets } from '../support/translated-targets.js';
import { KEYS } from '../support/sluice.js';

describe('blank stop sequences to Bedrock', () => {
  let targets: TranslatedTargets;
  let openai: OpenAI;

  before(async () => {
    targets = await startTranslatedTargets();
    // As Converse refuses them.
    targets.refuse((model, received) => {
      const stops = (received.body.inferenceConfig as { stopSequences?: string[] } | undefined)?.stopSequences ?? [];
      if (!model.startsWith('bedrock')) return null;
      if (stops.some((stop) => stop === ''))
        return {
          status: 400,
          body: {
            message:
              "1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy constraint: Member must have length greater than or equal to 1",
          },
        };
      if (model.startsWith('bedrock-claude') && stops.some((stop) => stop.trim() === ''))
        return {
          status: 400,
          body: { message: 'The model returned the following errors: stop_sequences: each stop sequence must contain non-whitespace' },
        };
      return null;
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${targets.sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await targets.stop();
  });

  const inference = (model: 'bedrock-claude' | 'bedrock-nova') =>
    targets.sent(model).inferenceConfig as { stopSequences?: string[] } | undefined;

  test('Claude: only-whitespace and empty sequences are left out, the others sent', async () => {
    const completion = await openai.chat.completions.create({
      model: 'bedrock-claude',
      stop: ['\n', 'END', '', ' \t'],
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(completion.choices[0]!.message.content, 'from Bedrock');
    assert.deepEqual(inference('bedrock-claude')?.stopSequences, ['END']);
  });

  test('another model: an empty sequence is left out, whitespace sent', async () => {
    await openai.chat.completions.create({ model: 'bedrock-nova', stop: ['', '\n'], messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual(inference('bedrock-nova')?.stopSequences, ['\n']);
  });

  test('nothing left: no stop sequences at all', async () => {
    await openai.chat.completions.create({ model: 'bedrock-claude', stop: '\n', messages: [{ role: 'user', content: 'Hi' }] });
    const sent = targets.sent('bedrock-claude');
    assert.equal(inference('bedrock-claude')?.stopSequences, undefined);
    assert.equal(sent.additionalModelResponseFieldPaths, undefined);
  });
});
