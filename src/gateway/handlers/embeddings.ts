// POST /v1/embeddings: the embeddings pipeline (OpenAI shape only; no other front door offers embeddings). The stages
// are composed here, and only here is the call's state written, from what each stage returns.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientBody } from '../../wire/exchange.js';
import type { GatewayContext } from '../context.js';
import { openaiChatFrontDoor } from '../frontdoors/openai-chat.js';
import { answerOpenAIEmbeddings, parseOpenAIEmbeddings } from '../frontdoors/openai-embeddings.js';
import { admit } from '../pipeline/admit.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { sendError, sendJson } from '../respond.js';
import { invokeUpstream } from '../routing/invoke.js';
import { finishCall } from './finish.js';

export async function handleEmbeddings(context: GatewayContext, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const snapshot = context.snapshot;
    const consumer = authenticate(snapshot.consumers, req);
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
    const client: ClientBody = { dialect: openaiChatFrontDoor.dialect, body };
    const invocation = await invokeUpstream(route, (target) => target.provider.openEmbeddings(request, target.model, client), false, call.cancellation);
    call.attempts = invocation.attempts;
    call.failures = invocation.failures;
    const answer = invocation.answer;
    if (answer === null) throw invocation.error;
    call.target = answer.target;
    const out = await answerOpenAIEmbeddings(answer.exchange, answer.text!, request);
    call.usage = out.usage;
    sendJson(res, 200, out.body);
  } catch (error) {
    call.failed(sendError(res, openaiChatFrontDoor, error, context.logger, call.requestId));
  }
  const finished = finishCall(context, call);
  if (finished !== undefined) await finished;
}
