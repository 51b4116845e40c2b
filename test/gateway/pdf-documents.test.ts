// PDF documents through Sluice whichever provider serves the model: the official SDKs send them in their own shape and
// each provider receives them in its own (Anthropic document blocks, Converse documents, Gemini inlineData, OpenAI
// file parts). Files by id or URL, which only their own provider can read, stay a 400 naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

/** A small but whole PDF: what a client reads from disk and base64-encodes. */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n' +
    '3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n',
).toString('base64');

describe('PDF documents, translated between the APIs', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, anthropicMessage('A one-page report.')));
    openaiMock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('A one-page report.')));
    bedrockMock = await startMockBedrock((_model, _stream, _request, res) => json(res, 200, converseAnswer('A one-page report.')));
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await openaiMock.close();
    await bedrockMock.close();
  });

  /** A user turn asking about a PDF, as the openai SDK's file part carries it. */
  function askAboutPdf(filename = 'Q3 report.pdf'): OpenAI.ChatCompletionMessageParam[] {
    return [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Summarize this report.' },
          { type: 'file', file: { filename, file_data: `data:application/pdf;base64,${PDF}` } },
        ],
      },
    ];
  }

  test('openai SDK file part -> Anthropic: a base64 document block titled with the filename', async () => {
    const completion = await openai.chat.completions.create({ model: 'claude', messages: askAboutPdf() });
    assert.equal(completion.choices[0]?.message.content, 'A one-page report.');
    assert.deepEqual(anthropicMock.received.at(-1)!.body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Summarize this report.' },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'Q3 report.pdf' },
        ],
      },
    ]);
  });

  test('openai SDK file parts -> Bedrock: Converse pdf documents, named as AWS allows and each name once', async () => {
    const file = { filename: 'Q3_report.v2 (final).pdf', file_data: `data:application/pdf;base64,${PDF}` };
    const completion = await openai.chat.completions.create({
      model: 'claude-bedrock',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'file', file },
            { type: 'file', file },
          ],
        },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'A one-page report.');
    const received = bedrockMock.received.at(-1)!;
    assert.equal(received.path, `/model/${encodeURIComponent('anthropic.claude-sonnet-4-5-20250929-v1:0')}/converse`);
    assert.deepEqual(received.body.messages, [
      {
        role: 'user',
        content: [
          { text: 'Compare these.' },
          { document: { format: 'pdf', name: 'Q3 report v2 (final)', source: { bytes: PDF } } },
          { document: { format: 'pdf', name: 'Q3 report v2 (final) (2)', source: { bytes: PDF } } },
        ],
      },
    ]);
  });

  test('openai SDK file part alone -> Bedrock: a neutral name when none is given, and the text Converse requires', async () => {
    await openai.chat.completions.create({
      model: 'claude-bedrock',
      messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${PDF}` } }] }],
    });
    assert.deepEqual(bedrockMock.received.at(-1)!.body.messages, [
      {
        role: 'user',
        content: [{ document: { format: 'pdf', name: 'Document', source: { bytes: PDF } } }, { text: 'See the attached document.' }],
      },
    ]);
  });

  test('openai SDK file part by file_id -> a translated target: a 400 naming file.file_id and saying what translates', async () => {
    const before = anthropicMock.received.length;
    await assert.rejects(
      openai.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc123' } }] }],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'messages[0].content[0].file.file_id' &&
        error.code === 'unsupported_parameter' &&
        error.message.includes('file_data ("data:application/pdf;base64,...")'),
    );
    assert.equal(anthropicMock.received.length, before);
  });
});
