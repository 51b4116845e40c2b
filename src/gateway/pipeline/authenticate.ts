// Stage 1: who is calling. The Sluice key comes as `Authorization: Bearer` (OpenAI SDK) or `x-api-key` (Anthropic SDK).
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { Consumer, ConsumerDirectory } from '../../policy/consumers.js';

export function authenticate(directory: ConsumerDirectory, req: IncomingMessage): Consumer {
  const key = presentedKey(req);
  if (key === null) throw new SluiceError('invalid_api_key', 'No API key: send your Sluice key as "Authorization: Bearer <key>" or "x-api-key".');
  const consumer = directory.find(key);
  if (consumer === undefined) throw new SluiceError('invalid_api_key', 'Invalid API key: no consumer holds this Sluice key.');
  return consumer;
}

function presentedKey(req: IncomingMessage): string | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined && authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
    return authorization.slice(7).trim();
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return null;
}
