// A followed background response's record as the gateway keeps it (src/gateway/stored-responses/followed-records.ts):
// a running o3-deep-research call of checkout-service, for the tests of the records' homes.
import type { FollowedRecord } from '../../src/gateway/stored-responses/followed-records.js';

export function followedRecord(id: string): FollowedRecord {
  return {
    id,
    provider: 'openai',
    since: Date.now(),
    row: {
      requestId: `req-${id}`,
      startedAt: Date.now(),
      operation: 'chat',
      api: 'openai-responses',
      stream: false,
      consumer: 'checkout-service',
      team: 'payments',
      requestedModel: 'o3-deep-research',
      provider: 'openai',
      providerModel: 'o3-deep-research',
      attempts: 1,
      servedModel: null,
      violations: null,
      identity: null,
    },
    promptTokens: 12,
    pricing: { input: 10, output: 40 },
    budgets: [],
  };
}
