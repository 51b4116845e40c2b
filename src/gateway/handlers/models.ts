// GET /v1/models and /v1/models/{id}: the models this consumer may use, in OpenAI's shape (Anthropic's for Anthropic clients).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import { mayUse, type Consumer } from '../../policy/consumers.js';
import type { GatewayContext } from '../context.js';
import type { FrontDoor } from '../frontdoors/frontdoor.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { sendError, sendJson } from '../respond.js';

/** Models have no creation time of their own; the gateway's start stands in for it. */
const STARTED = Math.floor(Date.now() / 1000);

export function handleModels(context: GatewayContext, door: FrontDoor, call: Call, req: IncomingMessage, res: ServerResponse, id: string | null): void {
  try {
    const snapshot = context.snapshot;
    const consumer = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, null);
    if (consumer instanceof Promise) {
      consumer.then((found) => listModels(context, door, call, res, id, found), (error: unknown) => refuse(context, door, call, res, error));
    } else listModels(context, door, call, res, id, consumer);
  } catch (error) {
    refuse(context, door, call, res, error);
  }
}

function listModels(context: GatewayContext, door: FrontDoor, call: Call, res: ServerResponse, id: string | null, consumer: Consumer): void {
  try {
    const names = [...context.snapshot.routing.routes.keys()].filter((name) => mayUse(consumer, name));
    if (id !== null) {
      if (!names.includes(id)) throw new SluiceError('model_not_found', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });
      sendJson(res, 200, JSON.stringify(door.dialect === 'anthropic' ? anthropicModel(id) : openaiModel(id)));
      return;
    }
    if (door.dialect === 'anthropic') {
      sendJson(res, 200, JSON.stringify({ data: names.map(anthropicModel), has_more: false, first_id: names[0] ?? null, last_id: names.at(-1) ?? null }));
    } else {
      sendJson(res, 200, JSON.stringify({ object: 'list', data: names.map(openaiModel) }));
    }
  } catch (error) {
    refuse(context, door, call, res, error);
  }
}

function refuse(context: GatewayContext, door: FrontDoor, call: Call, res: ServerResponse, error: unknown): void {
  // Listing models records no ledger row; a bad key is counted like on the other routes.
  if (error instanceof SluiceError && error.code === 'invalid_api_key') context.metrics.unauthenticated('/v1/models');
  sendError(res, door, call, error, context.logger);
}

function openaiModel(id: string) {
  return { id, object: 'model', created: STARTED, owned_by: 'sluice' };
}

function anthropicModel(id: string) {
  return { type: 'model', id, display_name: id, created_at: new Date(STARTED * 1000).toISOString() };
}
