// Reads and parses a JSON request body within the size limit, without buffering past it; a compressed body is inflated
// within the same limit.
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors.js';
import { contentCodings, decodable, decodeContent } from '../../wire/content-coding.js';

export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined) {
    const codings = contentCodings(encoding);
    if (codings.length > 0) return readCompressed(req, maxBytes, codings);
  }
  return collect(req, maxBytes, (body) => parse(body.toString('utf8')));
}

/**
 * The body whole, handed to `finish` (whose throw rejects); refused once larger than `maxBytes`, declared or sent. The
 * rest of a refused body is read and dropped, so the connection can carry the refusal and the next request.
 */
function collect<T>(req: IncomingMessage, maxBytes: number, finish: (body: Buffer) => T): Promise<T> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  // Plain listeners rather than an async iterator: this runs on every call and the iterator costs more than the read.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      try {
        resolve(finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      } catch (error) {
        reject(error);
      }
    };
    // on(), not once(): 'end' comes once, and a promise settles once; once() would wrap each in two more objects.
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * A body sent compressed (a client's own choice: SDKs send plain JSON): read within `maxBytes` as sent, inflated within
 * `maxBytes` again, so a small body that inflates without end (a zip bomb) stops at the limit.
 */
async function readCompressed(req: IncomingMessage, maxBytes: number, codings: string[]): Promise<Record<string, unknown>> {
  const encoding = codings.join(', ');
  if (!decodable(codings)) {
    req.resume();
    throw new SluiceError(
      'unsupported_encoding',
      `The request body's content-encoding '${encoding}' is not one Sluice reads: send it as is, or gzip, deflate or br.`,
      { param: 'content-encoding' },
    );
  }
  const decoded = await decodeContent(codings, await collect(req, maxBytes, (body) => body), maxBytes);
  if (decoded === 'too_large_decompressed') throw tooLarge(maxBytes);
  if (typeof decoded === 'string')
    throw new SluiceError('invalid_request', `The request body is not valid ${encoding} data, as its content-encoding says.`, {
      param: 'content-encoding',
    });
  return parse(decoded.toString('utf8'));
}

function parse(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new SluiceError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SluiceError('invalid_request', 'body: expected a JSON object', { param: 'body' });
  }
  if (nestsDeeper(body, 1)) {
    throw new SluiceError('invalid_request', `body: nests objects and arrays deeper than ${MAX_DEPTH} levels`, { param: 'body' });
  }
  return body as Record<string, unknown>;
}

/**
 * JSON.parse takes any depth, but what walks the body afterwards recurses (JSON.stringify of the upstream request
 * overflows the stack a few thousand levels down): deeper than any real request (tool schemas run to a dozen levels),
 * far shallower than the stack allows.
 */
const MAX_DEPTH = 128;

/** Recursion bounded by MAX_DEPTH itself; visits each object and array once, and stops at the first too deep. */
function nestsDeeper(value: object, depth: number): boolean {
  if (depth > MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestsDeeper(item, depth + 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestsDeeper(item, depth + 1)) return true;
  }
  return false;
}

function tooLarge(maxBytes: number): SluiceError {
  return new SluiceError('body_too_large', `The request body exceeds the gateway's limit of ${maxBytes} bytes.`);
}
