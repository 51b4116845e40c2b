// The model an upload names in a multipart/form-data field (audio transcriptions and translations, image edits,
// videos), read with busboy as the body passes: the files are skipped unread and never held, so a form is read whatever
// its size, one chunk at a time, each chunk read before it goes on (see forward.ts).
import busboy, { type Busboy } from 'busboy';

const FORM_DATA = /^\s*multipart\/form-data\s*;/i;
/** Of a `model` part sent as a file, the bytes read as its name: no model name is longer. */
const MODEL_FILE_BYTES = 4096;

export class FormReading {
  /** Every value the form has given its `model` field so far, in order (a form may name it more than once). */
  readonly models: string[];
  private readonly parser: Busboy;
  private failed: boolean;

  private constructor(parser: Busboy) {
    this.models = [];
    this.failed = false;
    this.parser = parser;
    parser.on('field', (name: string, value: string) => {
      if (name === 'model') this.models.push(value);
    });
    // busboy makes a file of any part with a filename or typed application/octet-stream, but the provider's form parser
    // may still take a part named `model` as the model: its text is read too (files are skipped, never held).
    parser.on('file', (name: string, stream: NodeJS.ReadableStream) => {
      if (name !== 'model') {
        stream.resume();
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

  /** A reader of the body when it is multipart/form-data with a boundary; null otherwise. */
  static open(contentType: string | undefined): FormReading | null {
    if (contentType === undefined || !FORM_DATA.test(contentType)) return null;
    try {
      return new FormReading(busboy({ headers: { 'content-type': contentType } }));
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
}
