// Reads and parses a JSON request body within the size limit, without buffering past it.
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors.js';

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new SluiceError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SluiceError('invalid_request', 'body: expected a JSON object', { param: 'body' });
  }
  return body as Record<string, unknown>;
}

function tooLarge(maxBytes: number): SluiceError {
  return new SluiceError('body_too_large', `The request body exceeds the gateway's limit of ${maxBytes} bytes.`);
}
