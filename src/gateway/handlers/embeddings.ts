// POST /v1/embeddings: the embeddings pipeline (OpenAI shape only; no other front door offers embeddings). The stages
// are composed here, and only here is the call's state written, from what each stage returns.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientBody } from '../../wire/exchange.js';
import type { GatewayContext } from '../context.js';
import { openaiChatFrontDoor } from '../frontdoors/openai-chat.js';
import { answerOpenAIEmbeddings, parseOpenAIEmbeddings, renderOpenAIEmbeddings } from '../frontdoors/openai-embeddings.js';
import { estimateEmbeddingTokens } from '../../metering/tokenizer.js';
import { admit } from '../pipeline/admit.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { sendError, sendJson } from '../respond.js';
import { invokeUpstream } from '../routing/invoke.js';
import type { ModelRoute } from '../routing/model-routes.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import { embeddingsPieces, fanOutEmbeddings } from './embeddings-fan-out.js';
import { finishCall } from './finish.js';

export async function handleEmbeddings(context: GatewayContext, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const snapshot = context.snapshot;
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
    const consumer = authenticated instanceof Promise ? await authenticated : authenticated;
    call.consumer = consumer;
    const body = await readJsonBody(req, context.maxBodyBytes);
    const request = parseOpenAIEmbeddings(body);
    call.embeddings = request;
    call.requestedModel = request.model;
    const requested = resolveModel(snapshot.routing.routes, consumer, request.model);
    const admitting = admit(snapshot.admission, consumer, requested, call);
    const admission = admitting instanceof Promise ? await admitting : admitting;
    const route = admission.route;
    call.reservation = admission.reservation;
    call.violations = admission.violations;
    if (route !== requested) {
      call.servedModel = route.name;
      res.setHeader('x-sluice-served-model', route.name);
    }
    const pieces = embeddingsPieces(route, request);
    if (pieces !== null) {
      // More inputs, or tokens, than a target takes per call (Bedrock Titan: one input): one upstream call per piece.
      const fanned = await fanOutEmbeddings(route, request, pieces, call.cancellation, call);
      call.target = fanned.target;
      const usage = fanned.response.usage.reported
        ? fanned.response.usage
        : { ...fanned.response.usage, inputTokens: await estimateEmbeddingTokens(request) };
      call.usage = usage;
      sendJson(res, 200, renderOpenAIEmbeddings({ ...fanned.response, usage }, request.model));
    } else {
      await invokeOnce(call, route, request, body, res);
    }
  } catch (error) {
    call.failed(sendError(res, openaiChatFrontDoor, error, context.logger, call.requestId));
  }
  const finished = finishCall(context, call);
  if (finished !== undefined) await finished;
}

async function invokeOnce(
  call: Call,
  route: ModelRoute,
  request: EmbeddingsRequest,
  body: Record<string, unknown>,
  res: ServerResponse,
): Promise<void> {
  const client: ClientBody = { dialect: openaiChatFrontDoor.dialect, body };
  const invocation = await invokeUpstream(
    route,
    (target) => target.provider.openEmbeddings(request, target.model, client),
    false,
    call.cancellation,
  );
  call.attempts = invocation.attempts;
  call.failures = invocation.failures;
  const answer = invocation.answer;
  if (answer === null) throw invocation.error;
  call.target = answer.target;
  const out = await answerOpenAIEmbeddings(answer.exchange, answer.text!, request);
  call.usage = out.usage;
  sendJson(res, 200, out.body);
}
