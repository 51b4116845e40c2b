// POST /v1/messages/count_tokens: Anthropic's token counting, for any model. A model served by Anthropic is counted by
// Anthropic's own endpoint; any other is counted with Sluice's tokenizer and the answer says it is an estimate
// (`"estimated": true` and the x-sluice-tokens-estimated header). Free, so nothing is admitted against budgets or recorded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import { estimatePromptTokens } from '../../metering/tokenizer.js';
import { isObject, tryParseJson } from '../../wire/json.js';
import type { GatewayContext } from '../context.js';
import { anthropicFrontDoor } from '../frontdoors/anthropic-messages.js';
import { parseAnthropicMessages } from '../frontdoors/anthropic-messages-parse.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { sendError, sendJson } from '../respond.js';
import { invokeUpstream } from '../routing/invoke.js';
import type { ModelRoute } from '../routing/model-routes.js';

export async function handleCountTokens(context: GatewayContext, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const snapshot = context.snapshot;
    try {
      const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
      call.consumer = authenticated instanceof Promise ? await authenticated : authenticated;
    } catch (error) {
      context.metrics.unauthenticated('/v1/messages/count_tokens');
      throw error;
    }
    const body = await readJsonBody(req, context.maxBodyBytes);
    // A count_tokens body is a Messages body without max_tokens: validated by the same parser, with the field lent.
    const request = parseAnthropicMessages({ ...body, max_tokens: 1, stream: false });
    const route = resolveModel(snapshot.routing.routes, call.consumer!, request.model);
    if (route.refusal !== null) throw new SluiceError('model_not_sanctioned', route.refusal, { param: 'model' });
    const betas = req.headers['anthropic-beta'];
    const counted = await countAtProvider(route, body, typeof betas === 'string' ? betas : undefined, call);
    if (counted !== null) {
      sendJson(res, 200, JSON.stringify({ input_tokens: counted }));
      return;
    }
    const estimate = await estimatePromptTokens(request);
    res.setHeader('x-sluice-tokens-estimated', 'true');
    sendJson(res, 200, JSON.stringify({ input_tokens: estimate, estimated: true }));
  } catch (error) {
    sendError(res, anthropicFrontDoor, error, context.logger, call.requestId);
  }
}

/**
 * The count from the route's targets that count tokens themselves (with the route's retry and fallback between them);
 * null when none does, or none could answer (an estimate then serves). A request the provider refuses is the client's.
 */
async function countAtProvider(
  route: ModelRoute,
  body: Record<string, unknown>,
  betas: string | undefined,
  call: Call,
): Promise<number | null> {
  const targets = route.targets.filter((target) => target.provider.openCountTokens !== undefined);
  if (targets.length === 0) return null;
  const invocation = await invokeUpstream(
    { ...route, targets },
    (target) => target.provider.openCountTokens!(body, target.model, betas),
    false,
    call.cancellation,
  );
  const answer = invocation.answer;
  if (answer === null) {
    const error = invocation.error;
    if (error instanceof SluiceError && error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 408)
      throw error;
    return null;
  }
  const json = tryParseJson(answer.text ?? '');
  return isObject(json) && typeof json.input_tokens === 'number' ? json.input_tokens : null;
}
