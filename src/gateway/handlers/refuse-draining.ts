// A call that reaches a consumer route while the gateway drains: refused with 503 shutting_down, and recorded like any
// refusal when its key is valid (the operator must see calls turned away), only counted when it is not (record.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { GatewayContext } from '../context.js';
import type { FrontDoor } from '../frontdoors/frontdoor.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { sendError } from '../respond.js';
import { finishCall } from './finish.js';

export function refuseWhileDraining(context: GatewayContext, door: FrontDoor, call: Call, req: IncomingMessage, res: ServerResponse): void {
  try {
    const { snapshot } = context;
    const consumer = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
    // A JWT is not verified for a call refused anyway: its consumer stays unknown, like a call without a valid key.
    if (consumer instanceof Promise) void consumer.catch(() => undefined);
    else call.consumer = consumer;
  } catch {
    // No valid key: the consumer stays unknown, and the refusal is counted rather than recorded.
  }
  call.failed(sendError(res, door, new SluiceError('shutting_down', 'The gateway is shutting down; retry on another instance.')));
  // Nothing to meter or settle (no target, no reservation): the record is queued at once, before the ledger closes.
  void finishCall(context, call);
}
