// Reads and parses a JSON request body within the size limit, without buffering past it.
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors.js';

export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
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
        resolve(parse(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
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
