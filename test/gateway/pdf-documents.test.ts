// PDF documents through Sluice whichever provider serves the model: the official SDKs send them in their own shape and
// each provider receives them in its own (Anthropic document blocks, Converse documents, Gemini inlineData, OpenAI
// file parts). Files by id or URL, which only their own provider can read, stay a 400 naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { testServiceAccountJson } from '../support/google.js';
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
  let geminiMock: MockProvider;
  let vertexMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, anthropicMessage('A one-page report.')));
    openaiMock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('A one-page report.')));
    const geminiAnswer = {
      candidates: [{ content: { role: 'model', parts: [{ text: 'A one-page report.' }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 270, candidatesTokenCount: 6, totalTokenCount: 276 },
    };
    geminiMock = await MockProvider.start((_request, res) => json(res, 200, geminiAnswer));
    // Vertex: its token endpoint and its models on one server (the token exchange is tested in providers/vertex.test.ts).
    vertexMock = await MockProvider.start((request, res) => {
      if (request.path === '/token') return json(res, 200, { access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' });
      if (request.path.includes('/publishers/anthropic/')) return json(res, 200, anthropicMessage('A one-page report.'));
      return json(res, 200, geminiAnswer);
    });
    const serviceAccount = testServiceAccountJson(`${vertexMock.url}/token`);
    bedrockMock = await startMockBedrock((_model, _stream, _request, res) => json(res, 200, converseAnswer('A one-page report.')));
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
        vertex: { type: 'vertex', baseUrl: vertexMock.url, location: 'us-central1', serviceAccountJson: serviceAccount },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gemini-vertex', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        { name: 'claude-vertex', targets: [{ provider: 'vertex', model: 'claude-sonnet-4-5@20250929' }] },
      ],
      budgets: [{ name: 'search-daily', consumers: { consumer: 'search-service' }, measure: 'total_tokens', limit: 2_000, window: 'day' }],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await openaiMock.close();
    await bedrockMock.close();
    await geminiMock.close();
    await vertexMock.close();
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

  test('openai SDK file part -> Gemini: inlineData of type application/pdf', async () => {
    const completion = await openai.chat.completions.create({ model: 'gemini', messages: askAboutPdf() });
    assert.equal(completion.choices[0]?.message.content, 'A one-page report.');
    const received = geminiMock.received.at(-1)!;
    assert.equal(received.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.deepEqual(received.body.contents, [
      { role: 'user', parts: [{ text: 'Summarize this report.' }, { inlineData: { mimeType: 'application/pdf', data: PDF } }] },
    ]);
  });

  test('openai SDK file part -> Vertex: inlineData for Gemini, a document block for Claude', async () => {
    await openai.chat.completions.create({ model: 'gemini-vertex', messages: askAboutPdf() });
    const gemini = vertexMock.received.at(-1)!;
    assert.equal(gemini.path, '/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
    assert.deepEqual(gemini.body.contents, [
      { role: 'user', parts: [{ text: 'Summarize this report.' }, { inlineData: { mimeType: 'application/pdf', data: PDF } }] },
    ]);
    const completion = await openai.chat.completions.create({ model: 'claude-vertex', messages: askAboutPdf('scan.pdf') });
    assert.equal(completion.choices[0]?.message.content, 'A one-page report.');
    const claude = vertexMock.received.at(-1)!;
    assert.ok(claude.path.endsWith('/publishers/anthropic/models/claude-sonnet-4-5%4020250929:rawPredict'));
    assert.deepEqual((claude.body.messages as Array<{ content: unknown[] }>)[0]!.content[1], {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: PDF },
      title: 'scan.pdf',
    });
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

  test('openai SDK Responses input_file -> Anthropic: a base64 document block titled with the filename', async () => {
    const response = await openai.responses.create({
      model: 'claude',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_file', filename: 'Q3 report.pdf', file_data: `data:application/pdf;base64,${PDF}` },
            { type: 'input_text', text: 'Summarize this report.' },
          ],
        },
      ],
    });
    assert.equal(response.output_text, 'A one-page report.');
    assert.deepEqual(anthropicMock.received.at(-1)!.body.messages, [
      {
        role: 'user',
        content: [
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'Q3 report.pdf' },
          { type: 'text', text: 'Summarize this report.' },
        ],
      },
    ]);
  });

  test('openai SDK Responses input_file by URL -> a translated target: a 400 naming its file_url', async () => {
    const before = anthropicMock.received.length;
    await assert.rejects(
      openai.responses.create({
        model: 'claude',
        input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://example.com/q3.pdf' }] }],
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'input[0].content[0].file_url' &&
        error.message.includes('send the PDF itself as file_data'),
    );
    assert.equal(anthropicMock.received.length, before);
  });

  test('anthropic SDK document block -> OpenAI: a file part with the PDF as file_data, the title as filename', async () => {
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 300,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF }, title: 'Q3 report.pdf' },
            { type: 'text', text: 'Summarize this report.' },
          ],
        },
      ],
    });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'A one-page report.');
    assert.deepEqual(openaiMock.received.at(-1)!.body.messages, [
      {
        role: 'user',
        content: [
          { type: 'file', file: { filename: 'Q3 report.pdf', file_data: `data:application/pdf;base64,${PDF}` } },
          { type: 'text', text: 'Summarize this report.' },
        ],
      },
    ]);
  });

  test('anthropic SDK plain-text document -> Bedrock and Gemini: a txt document, text/plain inlineData', async () => {
    const notes = 'Revenue rose 4% in Q3.';
    const content: Anthropic.ContentBlockParam[] = [
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: notes }, title: 'notes.txt' },
      { type: 'text', text: 'What happened to revenue?' },
    ];
    await anthropic.messages.create({ model: 'claude-bedrock', max_tokens: 300, messages: [{ role: 'user', content }] });
    assert.deepEqual((bedrockMock.received.at(-1)!.body.messages as Array<{ content: unknown[] }>)[0]!.content[0], {
      document: { format: 'txt', name: 'notes', source: { bytes: Buffer.from(notes).toString('base64') } },
    });
    await anthropic.messages.create({ model: 'gemini', max_tokens: 300, messages: [{ role: 'user', content }] });
    assert.deepEqual((geminiMock.received.at(-1)!.body.contents as Array<{ parts: unknown[] }>)[0]!.parts[0], {
      inlineData: { mimeType: 'text/plain', data: Buffer.from(notes).toString('base64') },
    });
  });

  for (const c of [
    {
      name: 'a plain-text document',
      source: { type: 'text', media_type: 'text/plain', data: 'notes' },
      says: 'takes PDF documents only',
    },
    { name: 'a document by URL', source: { type: 'url', url: 'https://example.com/q3.pdf' }, says: 'send the PDF itself' },
  ]) {
    test(`anthropic SDK ${c.name} -> OpenAI: a 400 naming its source.type, saying what translates, nothing sent`, async () => {
      const before = openaiMock.received.length;
      await assert.rejects(
        anthropic.messages.create({
          model: 'gpt-4o-mini',
          max_tokens: 300,
          messages: [{ role: 'user', content: [{ type: 'document', source: c.source as Anthropic.URLPDFSource }] }],
        }),
        (error: unknown) =>
          error instanceof Anthropic.BadRequestError &&
          error.message.includes('messages[0].content[0].source.type') &&
          error.message.includes(c.says),
      );
      assert.equal(openaiMock.received.length, before);
    });
  }

  test('the prompt estimate counts a PDF as a page, not its base64 as text (count_tokens for a model OpenAI serves)', async () => {
    // About 400 KB of PDF: counted as text, its base64 would be some hundred thousand tokens.
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(400_000, 'x')]).toString('base64');
    const counted = await anthropic.messages.countTokens({
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: big } },
            { type: 'text', text: 'Summarize.' },
          ],
        },
      ],
    });
    assert.ok(counted.input_tokens >= 1_500 && counted.input_tokens < 1_600, `estimated ${counted.input_tokens}`);
  });

  test('a budget reserves a page for each PDF: one fits in 2,000 tokens, two do not, and base64 is not counted as text', async () => {
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    // About 300 KB of PDF each: counted as text, one would be far beyond the budget.
    const big = `data:application/pdf;base64,${Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300_000, 'x')]).toString('base64')}`;
    const file = { type: 'file' as const, file: { filename: 'big.pdf', file_data: big } };
    const one = await search.chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarize.' }, file] }],
    });
    assert.equal(one.choices[0]?.message.content, 'A one-page report.');
    await assert.rejects(
      search.chat.completions.create({
        model: 'gpt-4o-mini',
        max_tokens: 100,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Compare.' }, file, file] }],
      }),
      // Two pages and the answer are more than the whole budget: they can never fit (a 400, not a 429 to retry).
      (error: unknown) =>
        error instanceof OpenAI.APIError && error.status === 400 && /exceeds the whole limit of 2000 tokens/.test(error.message),
    );
  });
});
