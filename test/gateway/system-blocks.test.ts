// A system prompt of several text blocks (Anthropic's `system` array, an OpenAI system message's text parts) reaches each
// translated target with its blocks kept apart, in the form its API takes, rather than joined with nothing between (the
// last word of one block run into the first of the next): Gemini systemInstruction.parts, Converse's system list of
// SystemContentBlocks, Claude's system array of text blocks; OpenAI one string, a blank line between the blocks, as
// every server behind the openai type takes it (some refuse text parts in system and assistant messages). An assistant
// turn of several text blocks reaches OpenAI likewise (Gemini, Converse and Claude keep a turn's blocks apart already).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { KEYS } from '../support/sluice.js';
import { startTranslatedTargets, type TranslatedTargets } from '../support/translated-targets.js';

const BLOCKS = ['You are terse.', 'Answer in French.'];

describe('system prompts of several blocks in translation', () => {
  let targets: TranslatedTargets;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    targets = await startTranslatedTargets();
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: targets.sluice.baseURL, maxRetries: 0 });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${targets.sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await targets.stop();
  });

  const ask = (model: string) =>
    anthropic.messages.create({
      model,
      max_tokens: 256,
      system: BLOCKS.map((text) => ({ type: 'text' as const, text })),
      messages: [
        { role: 'user', content: 'Hi' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Bonjour.' },
            { type: 'text', text: 'Ça va?' },
          ],
        },
        { role: 'user', content: 'Oui' },
      ],
    });

  test('OpenAI: the blocks of a system message and of an assistant turn a blank line apart', async () => {
    await ask('gpt');
    const messages = targets.sent('gpt').messages as unknown[];
    assert.deepEqual(messages[0], { role: 'system', content: 'You are terse.\n\nAnswer in French.' });
    assert.deepEqual(messages[2], { role: 'assistant', content: 'Bonjour.\n\nÇa va?' });
  });

  test('Gemini and Gemini on Vertex: one systemInstruction part per block', async () => {
    for (const model of ['gemini', 'vertex-gemini'] as const) {
      await ask(model);
      assert.deepEqual(targets.sent(model).systemInstruction, { parts: BLOCKS.map((text) => ({ text })) }, model);
    }
  });

  test("Bedrock: one SystemContentBlock per block; Claude on Vertex: Claude's system array", async () => {
    await ask('bedrock-claude');
    assert.deepEqual(
      targets.sent('bedrock-claude').system,
      BLOCKS.map((text) => ({ text })),
    );
    await ask('vertex-claude');
    assert.deepEqual(
      targets.sent('vertex-claude').system,
      BLOCKS.map((text) => ({ type: 'text', text })),
    );
  });

  test("an OpenAI client's system message of text parts reaches Claude as blocks; a one-block system stays a string", async () => {
    await openai.chat.completions.create({
      model: 'vertex-claude',
      messages: [
        { role: 'system', content: BLOCKS.map((text) => ({ type: 'text' as const, text })) },
        { role: 'user', content: 'Hi' },
      ],
    });
    assert.deepEqual(
      targets.sent('vertex-claude').system,
      BLOCKS.map((text) => ({ type: 'text', text })),
    );
    await anthropic.messages.create({ model: 'gpt', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual((targets.sent('gpt').messages as unknown[])[0], { role: 'system', content: 'Be brief.' });
    await anthropic.messages.create({
      model: 'vertex-claude',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(targets.sent('vertex-claude').system, 'Be brief.');
  });
});
