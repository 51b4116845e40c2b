// The endpoint the external-services check lists for a provider registered without a baseUrl: the one it really calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { providerEndpoint } from '../../src/compliance/checks/services.js';
import type { StoredProvider } from '../../src/store/admin-store.js';

function registered(settings: Record<string, unknown>): StoredProvider {
  return {
    name: 'p',
    settings: { connections: 128, ...settings } as StoredProvider['settings'],
    credentials: null,
    createdAt: 0,
    updatedAt: 0,
  };
}

test("a bedrock provider is listed at bedrock-runtime, or at bedrock-mantle's Messages API with api: messages", () => {
  assert.equal(providerEndpoint(registered({ type: 'bedrock' })), 'https://bedrock-runtime.<region>.amazonaws.com');
  assert.equal(providerEndpoint(registered({ type: 'bedrock', api: 'converse' })), 'https://bedrock-runtime.<region>.amazonaws.com');
  assert.equal(providerEndpoint(registered({ type: 'bedrock', api: 'messages' })), 'https://bedrock-mantle.<region>.api.aws/anthropic');
  assert.equal(
    providerEndpoint(registered({ type: 'bedrock', api: 'messages', baseUrl: 'https://proxy.example' })),
    'https://proxy.example',
  );
});
