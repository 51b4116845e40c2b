// The model an upload names in a multipart/form-data field (audio transcriptions and translations, image edits,
// videos), read with busboy as the body passes: the files are skipped unread and never held, so a form is read whatever
// its size, one chunk at a time, each chunk read before it goes on (see forward.ts). A file uploaded for a batch (OpenAI's
// `/v1/files`: JSONL lines whose `body` names each request's model) is scanned as it passes for the models it names.
import busboy, { type Busboy } from 'busboy';
import { asObject, tryParseJson } from '../wire/json.js';

const FORM_DATA = /^\s*multipart\/form-data\s*;/i;
/** Of a `model` part sent as a file, the bytes read as its name: no model name is longer. */
const MODEL_FILE_BYTES = 4096;
/** A `"model": "..."` member in JSON text, not inside a string (where its quotes would be escaped). */
const MODEL_MEMBER = /(?<!\\)"model"\s*:\s*"([^"\\]{1,256})"/g;
/** What of a file chunk's end is scanned again with the next: a member cut between two chunks is found whole. */
const MEMBER_OVERLAP = 320;

export class FormReading {
  /** Every value the form has given its `model` field so far, in order (a form may name it more than once). */
  readonly models: string[];
  /** The models a batch file's requests name, so far (scanned files only): what the batch it is made for would run. */
  readonly fileModels: Set<string>;
  private readonly parser: Busboy;
  private failed: boolean;

  private constructor(parser: Busboy, scanFiles: boolean) {
    this.models = [];
    this.fileModels = new Set();
    this.failed = false;
    this.parser = parser;
    parser.on('field', (name: string, value: string) => {
      if (name === 'model') this.models.push(value);
      // A Realtime WebRTC call (POST /v1/realtime/calls) configures its session, model included, in a JSON field.
      else if (name === 'session') {
        const model = asObject(tryParseJson(value)).model;
        if (typeof model === 'string' && model !== '') this.models.push(model);
      }
    });
    // busboy makes a file of any part with a filename or typed application/octet-stream, but the provider's form parser
    // may still take a part named `model` as the model: its text is read too (files are skipped, never held).
    parser.on('file', (name: string, stream: NodeJS.ReadableStream) => {
      // A form that ends inside a file (cut by its client, or no longer fed once refused) fails the file's stream too:
      // unheard, that error would be thrown and take the proxy down.
      stream.on('error', () => undefined);
      if (name !== 'model') {
        if (scanFiles) this.scan(stream);
        else stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MODEL_FILE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => this.models.push(Buffer.concat(chunks).toString('utf8')));
    });
    // A form that is not well formed stops being read; what it named before stays. The provider's parser refuses it.
    parser.on('error', () => {
      this.failed = true;
    });
  }

  /**
   * A reader of the body when it is multipart/form-data with a boundary; null otherwise. `scanFiles`: its files are
   * scanned for the models they name (an upload that may be a batch's input).
   */
  static open(contentType: string | undefined, scanFiles = false): FormReading | null {
    if (contentType === undefined || !FORM_DATA.test(contentType)) return null;
    try {
      return new FormReading(busboy({ headers: { 'content-type': contentType } }), scanFiles);
    } catch {
      return null; // no boundary, or a content type busboy does not parse
    }
  }

  /**
   * Reads a chunk of the body; resolves once the fields it completes have been seen (a `model` part read as a file ends
   * on a later tick than the chunk's write: the promise waits for the ticks to run).
   */
  read(chunk: Buffer): Promise<void> {
    if (this.failed || this.parser.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.parser.write(chunk, () => setImmediate(resolve)));
  }

  /** The body is over: resolves once the form is read to its end. */
  end(): Promise<void> {
    if (this.failed || this.parser.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.parser.once('close', () => setImmediate(resolve));
      this.parser.end();
    });
  }

  /** Every model the form names so far: its `model` fields', then its scanned files'. */
  named(): string[] {
    return this.fileModels.size === 0 ? this.models : [...this.models, ...this.fileModels];
  }

  /** Scans a file as it passes for `"model": "..."` members, holding only the overlap between chunks. */
  private scan(stream: NodeJS.ReadableStream): void {
    let carry = '';
    stream.on('data', (chunk: Buffer) => {
      // latin1: one character a byte, so a chunk cut inside a character changes nothing a model name is made of.
      const text = carry + chunk.toString('latin1');
      for (const match of text.matchAll(MODEL_MEMBER)) this.fileModels.add(match[1]!);
      carry = text.slice(-MEMBER_OVERLAP);
    });
  }
}
