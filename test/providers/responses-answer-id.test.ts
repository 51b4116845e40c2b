// The id of a whole Responses API answer, found by a bounded scan of its first characters (no parse of the answer): the
// top-level `id` only, wherever it stands among the first fields, whatever the strings before it hold.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { responsesAnswerId } from '../../src/providers/openai/responses-response.js';
import { messageItem, responseObject } from '../support/mock-responses.js';

describe('responsesAnswerId', () => {
  const cases: Array<{ name: string; text: string; id: string | null }> = [
    {
      name: 'OpenAI’s answer, id first, pretty-printed',
      text: JSON.stringify(responseObject([messageItem('Hi')], { input_tokens: 1, output_tokens: 1 }, 'gpt-4o', 'resp_0a1b'), null, 2),
      id: 'resp_0a1b',
    },
    {
      name: 'the id after nested objects holding ids of their own',
      text: '{"object":"response","output":[{"id":"msg_1","type":"message"}],"meta":{"id":"x"},"id":"resp_late"}',
      id: 'resp_late',
    },
    { name: 'a string value "id" is not the key', text: '{"object":"id","note":"\\"id\\": \\"fake\\"","id" : "resp_2"}', id: 'resp_2' },
    { name: 'no id', text: '{"object":"response","output":[]}', id: null },
    { name: 'an id that is not a string', text: '{"id":42}', id: null },
    { name: 'not JSON', text: 'upstream said no', id: null },
    { name: 'an id past the scanned start is not looked for', text: `{"pad":"${'x'.repeat(5_000)}","id":"resp_far"}`, id: null },
  ];
  for (const { name, text, id } of cases) test(name, () => assert.equal(responsesAnswerId(text), id));
});
