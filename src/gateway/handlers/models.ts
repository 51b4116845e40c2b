// GET /v1/models and /v1/models/{id}: the models this consumer may use (allowed to it, not refused by the resource
// policy, nor for want of a price its cost budgets need), in OpenAI's shape (Anthropic's for Anthropic clients).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import { mayUse, type Consumer } from '../../policy/consumers.js';
import type { GatewayContext } from '../context.js';
import type { FrontDoor } from '../frontdoors/frontdoor.js';
import { unpricedRefusal } from '../pipeline/admit.js';
import { authenticate } from '../pipeline/authenticate.js';
import { sendError, sendJson } from '../respond.js';

/** Models have no creation time of their own; the gateway's start stands in for it. */
const STARTED = Math.floor(Date.now() / 1000);

export function handleModels(
  context: GatewayContext,
  door: FrontDoor,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  id: string | null,
): void {
  try {
    const snapshot = context.snapshot;
    const consumer = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, null);
    // A JWT is verified asynchronously; a key or a certificate answers at once.
    if (consumer instanceof Promise)
      consumer.then(
        (found) => listModels(context, door, res, requestId, id, found),
        (error: unknown) => refuse(context, door, res, requestId, error),
      );
    else listModels(context, door, res, requestId, id, consumer);
  } catch (error) {
    refuse(context, door, res, requestId, error);
  }
}

function listModels(
  context: GatewayContext,
  door: FrontDoor,
  res: ServerResponse,
  requestId: string,
  id: string | null,
  consumer: Consumer,
): void {
  try {
    const routes = context.snapshot.routing.routes;
    const admission = context.snapshot.admission;
    if (id !== null) {
      const route = mayUse(consumer, id) ? routes.get(id) : undefined;
      if (route === undefined)
        throw new SluiceError('model_not_found', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });
      // Asked for by name, a model the resource policy refuses answers as a call to it would: 403, naming the resources.
      if (route.refusal !== null) throw new SluiceError('model_not_sanctioned', route.refusal, { param: 'model' });
      const unpriced = unpricedRefusal(admission, admission.budgets.for(consumer, route), route);
      if (unpriced !== null) throw unpriced;
      sendJson(res, 200, door.renderModel(id, STARTED));
      return;
    }
    // Only what a call may use: a client that offers the list (a model picker) would otherwise offer models every call
    // to which is refused with model_not_sanctioned (or, under admission.unpriced: refuse, model_unpriced).
    const names: string[] = [];
    for (const [name, route] of routes) {
      if (route.refusal !== null || !mayUse(consumer, name)) continue;
      if (unpricedRefusal(admission, admission.budgets.for(consumer, route), route) === null) names.push(name);
    }
    sendJson(res, 200, door.renderModels(names, STARTED));
  } catch (error) {
    refuse(context, door, res, requestId, error);
  }
}

function refuse(context: GatewayContext, door: FrontDoor, res: ServerResponse, requestId: string, error: unknown): void {
  // Listing models records no ledger row; a bad key is counted like on the other routes.
  if (error instanceof SluiceError && error.code === 'invalid_api_key') context.metrics.unauthenticated('/v1/models');
  sendError(res, door, error, context.logger, requestId);
}
