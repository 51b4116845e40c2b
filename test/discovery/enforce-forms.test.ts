// Uploads in multipart/form-data that name their model in a form field (audio transcriptions and translations, image
// edits, videos): the discovery proxy reads the field, inventories the model and, in enforce mode, refuses an
// unsanctioned one as it refuses a JSON body's, at any size: the part past maxParseBytes is read as it passes, each chunk
// before it is sent. A batch input file uploaded to /v1/files is scanned for the models its requests name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { FormData } from 'undici';
import { json } from '../support/mock-provider.js';
import { counter, HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const MAX_PARSE_BYTES = 64 * 1024;
const AUDIO = Buffer.alloc(4096, 7);

describe('discovery: models named in multipart form fields', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;
  let observing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), (request, res) =>
      request.path.startsWith('/v1/audio/') ? json(res, 200, { text: 'hello' }) : json(res, 200, { id: 'file-1', object: 'file' }),
    );
    const discovery = (mode: string) => ({
      mode,
      maxParseBytes: MAX_PARSE_BYTES,
      ...interceptingTo(tls, ['api.openai.com'], mock.port),
    });
    const rest = {
      providers: { openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-unused-not-real' } },
      resources: { 'openai/whisper-1': 'sanctioned', 'openai/gpt-4o-transcribe': 'unsanctioned', 'openai/gpt-4o': 'unsanctioned' },
    };
    enforcing = await startTestDiscovery(discovery('enforce'), rest);
    observing = await startTestDiscovery(discovery('observe'), rest);
  });

  after(async () => {
    await enforcing.stop();
    await observing.stop();
    await mock.close();
  });

  const client = (discovery: RunningDiscovery) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    // Node's own fetch, through the same proxy agent: the SDK builds uploads with the global FormData, which undici's
    // package fetch does not take.
    const fetch = ((url: string, init?: RequestInit) =>
      globalThis.fetch(url, { ...init, dispatcher: proxied.dispatcher } as unknown as RequestInit)) as typeof globalThis.fetch;
    const openai = new OpenAI({ apiKey: 'sk-forms-not-real', baseURL: 'https://api.openai.com/v1', fetch, maxRetries: 0 });
    return { openai, close: () => proxied.dispatcher.close() };
  };
  /** A form posted as built, fields in the order given (the SDK's own order is its params object's). */
  const postForm = async (discovery: RunningDiscovery, path: string, fields: Array<[string, string | Blob]>) => {
    const form = new FormData();
    for (const [name, value] of fields) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, value, 'speech.mp3');
    }
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const response = await proxied.fetch(`https://api.openai.com${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-forms-not-real' },
      body: form as unknown as RequestInit['body'],
    });
    const text = await response.text();
    await proxied.dispatcher.close();
    return { status: response.status, body: JSON.parse(text) as { error?: { code: string | null; message: string } } };
  };

  test('enforce: a transcription (the openai SDK) naming an unsanctioned model gets the 403 and never reaches the provider', async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' });
    const { openai, close } = client(enforcing);
    await assert.rejects(
      openai.audio.transcriptions.create({ file: await toFile(AUDIO, 'speech.mp3'), model: 'gpt-4o-transcribe' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        assert.match(error.message, /gpt-4o-transcribe/);
        return true;
      },
    );
    await close();
    assert.equal(mock.received.length, seen, 'the provider saw nothing');
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' }), blocked + 1);
  });

  test('enforce: a transcription naming a sanctioned model goes on as sent and is inventoried with its model', async () => {
    enforcing.aggregator.drain();
    const { openai, close } = client(enforcing);
    const answer = await openai.audio.transcriptions.create({ file: await toFile(AUDIO, 'speech.mp3'), model: 'whisper-1' });
    await close();
    assert.equal(answer.text, 'hello');
    const received = mock.received.at(-1)!;
    assert.equal(received.path, '/v1/audio/transcriptions');
    assert.match(received.rawBody, /name="model"\r\n\r\nwhisper-1\r\n/);
    const observed = enforcing.aggregator.drain().find((item) => item.provider === 'openai');
    assert.equal(observed?.model, 'whisper-1');
  });

  test('enforce: a translation naming its model twice, one of them unsanctioned, is refused', async () => {
    const seen = mock.received.length;
    const refused = await postForm(enforcing, '/v1/audio/translations', [
      ['model', 'whisper-1'],
      ['file', new Blob([AUDIO])],
      ['model', 'gpt-4o-transcribe'],
    ]);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'model_not_sanctioned');
    assert.equal(mock.received.length, seen);
  });

  test('enforce: a form over maxParseBytes whose model comes before the file is decided by that model', async () => {
    const large = new Blob([Buffer.alloc(2 * MAX_PARSE_BYTES, 1)]);
    const seen = mock.received.length;
    const refused = await postForm(enforcing, '/v1/audio/transcriptions', [
      ['model', 'gpt-4o-transcribe'],
      ['file', large],
    ]);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'model_not_sanctioned');
    assert.equal(mock.received.length, seen);

    const passed = await postForm(enforcing, '/v1/audio/transcriptions', [
      ['model', 'whisper-1'],
      ['file', large],
    ]);
    assert.equal(passed.status, 200);
    assert.ok(mock.received.at(-1)!.rawBody.length > 2 * MAX_PARSE_BYTES, 'the whole upload went on');
  });

  test('enforce: a form whose model field lies past maxParseBytes (the openai SDK sends the file first) is read as it passes', async () => {
    const seen = mock.received.length;
    const { openai, close } = client(enforcing);
    const large = Buffer.alloc(4 * MAX_PARSE_BYTES, 1);
    await assert.rejects(
      openai.audio.transcriptions.create({ file: await toFile(large, 'speech.mp3'), model: 'gpt-4o-transcribe' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        return true;
      },
    );
    assert.equal(mock.received.length, seen, 'the provider never had the whole form');

    enforcing.aggregator.drain();
    const answer = await openai.audio.transcriptions.create({ file: await toFile(large, 'speech.mp3'), model: 'whisper-1' });
    await close();
    assert.equal(answer.text, 'hello');
    assert.ok(mock.received.at(-1)!.rawBody.length > 4 * MAX_PARSE_BYTES, 'the whole upload went on');
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'openai')?.model, 'whisper-1');
  });

  test('enforce: a sanctioned model before the bound and an unsanctioned one past it, in one form, is refused', async () => {
    const seen = mock.received.length;
    const refused = await postForm(enforcing, '/v1/audio/transcriptions', [
      ['model', 'whisper-1'],
      ['file', new Blob([Buffer.alloc(4 * MAX_PARSE_BYTES, 1)])],
      ['model', 'gpt-4o-transcribe'],
    ]);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'model_not_sanctioned');
    assert.equal(mock.received.length, seen, 'the provider never had the whole form');
  });

  test('enforce: a part named model sent as a file is read as the model', async () => {
    const seen = mock.received.length;
    const refused = await postForm(enforcing, '/v1/audio/transcriptions', [
      ['file', new Blob([AUDIO])],
      ['model', new Blob(['gpt-4o-transcribe'])],
    ]);
    assert.equal(refused.status, 403);
    assert.equal(mock.received.length, seen);
  });

  test('enforce: a file upload over maxParseBytes (no model field on that path) still passes', async () => {
    const passed = await postForm(enforcing, '/v1/files', [
      ['purpose', 'batch'],
      ['file', new Blob([Buffer.alloc(2 * MAX_PARSE_BYTES, 0x61)])],
    ]);
    assert.equal(passed.status, 200);
    assert.equal(mock.received.at(-1)!.path, '/v1/files');
  });

  const batchLine = (id: string, model: string, content = 'hi') =>
    `${JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content }] } })}\n`;

  test("enforce: a batch input file (the openai SDK's files.create) naming an unsanctioned model in a request is refused", async () => {
    const seen = mock.received.length;
    const { openai, close } = client(enforcing);
    const file = batchLine('a', 'gpt-4o-mini') + batchLine('b', 'gpt-4o');
    await assert.rejects(
      openai.files.create({ file: await toFile(Buffer.from(file), 'batch.jsonl'), purpose: 'batch' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        assert.match(error.message, /openai\/gpt-4o /);
        return true;
      },
    );
    await close();
    assert.equal(mock.received.length, seen);
  });

  test('enforce: a batch input file past maxParseBytes naming an unsanctioned model on its last line never reaches the provider whole', async () => {
    const seen = mock.received.length;
    const { openai, close } = client(enforcing);
    const filler = batchLine('a', 'gpt-4o-mini', 'x'.repeat(1000));
    const file = filler.repeat(Math.ceil((4 * MAX_PARSE_BYTES) / filler.length)) + batchLine('last', 'gpt-4o');
    await assert.rejects(
      openai.files.create({ file: await toFile(Buffer.from(file), 'batch.jsonl'), purpose: 'batch' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        return true;
      },
    );
    assert.equal(mock.received.length, seen, 'the provider never had the whole form');

    const passed = await openai.files.create({
      file: await toFile(Buffer.from(filler.repeat(Math.ceil((4 * MAX_PARSE_BYTES) / filler.length))), 'batch.jsonl'),
      purpose: 'batch',
    });
    await close();
    assert.equal(passed.id, 'file-1');
  });

  test("enforce: a part of a batch file sent through the Uploads API (the openai SDK's uploads.parts.create) is scanned too", async () => {
    const seen = mock.received.length;
    const { openai, close } = client(enforcing);
    // POST /v1/uploads/{upload_id}/parts, the part's bytes in the form's `data` (OpenAI's API reference: Add upload part).
    await assert.rejects(
      openai.uploads.parts.create('upload_abc', { data: await toFile(Buffer.from(batchLine('a', 'gpt-4o')), 'part') }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        assert.match(error.message, /openai\/gpt-4o /);
        return true;
      },
    );
    assert.equal(mock.received.length, seen);
    const passed = await openai.uploads.parts.create('upload_abc', {
      data: await toFile(Buffer.from(batchLine('b', 'gpt-4o-mini')), 'part'),
    });
    await close();
    assert.equal(passed.id, 'file-1');
    assert.equal(mock.received.at(-1)!.path, '/v1/uploads/upload_abc/parts');
  });

  test('observe: a transcription naming an unsanctioned model passes and is inventoried with its model', async () => {
    observing.aggregator.drain();
    const { openai, close } = client(observing);
    const answer = await openai.audio.transcriptions.create({ file: await toFile(AUDIO, 'speech.mp3'), model: 'gpt-4o-transcribe' });
    await close();
    assert.equal(answer.text, 'hello');
    const observed = observing.aggregator.drain().find((item) => item.provider === 'openai');
    assert.equal(observed?.model, 'gpt-4o-transcribe');
  });
});
