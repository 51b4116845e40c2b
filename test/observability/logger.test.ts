// The logger's redaction by path: credentials in logged objects and request headers never reach the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger.js';

test('request headers and provider credentials are redacted wherever a logged object holds them', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  const headers = {
    authorization: 'Bearer secret-authorization-1',
    'x-api-key': 'secret-x-api-key-2',
    'api-key': 'secret-api-key-3',
    'x-goog-api-key': 'secret-goog-4',
    'proxy-authorization': 'Basic c2VjcmV0OjU=',
    accept: 'application/json',
  };
  logger.info(
    {
      headers,
      req: { headers },
      authorization: 'Bearer secret-top-6',
      'x-api-key': 'secret-top-7',
      provider: { apiKey: 'secret-provider-8', secretAccessKey: 'secret-aws-9', sessionToken: 'secret-aws-10' },
      key: 'secret-key-11',
    },
    'a request',
  );
  const line = lines.join('');
  assert.doesNotMatch(line, /secret-|c2VjcmV0/);
  const logged = JSON.parse(line) as { headers: Record<string, string>; req: { headers: Record<string, string> } };
  assert.equal(logged.headers.authorization, '[redacted]');
  assert.equal(logged.req.headers['api-key'], '[redacted]');
  assert.equal(logged.headers.accept, 'application/json', 'other headers stay readable');
});
