// POST /v1/embeddings: the embeddings pipeline (OpenAI shape only; no other front door offers embeddings).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientBody } from '../../wire/exchange.js';
import type { GatewayContext } from '../context.js';
import { openaiChatFrontDoor } from '../frontdoors/openai-chat.js';
import { answerOpenAIEmbeddings, parseOpenAIEmbeddings } from '../frontdoors/openai-embeddings.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { record } from '../pipeline/record.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { admit } from '../pipeline/admit.js';
import { sendError, sendJson } from '../respond.js';
import { invokeUpstream } from '../routing/invoke.js';

export async function handleEmbeddings(context: GatewayContext, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const snapshot = context.snapshot;
    call.consumer = authenticate(snapshot.consumers, req);
    const body = await readJsonBody(req, context.maxBodyBytes);
    const request = parseOpenAIEmbeddings(body);
    call.embeddings = request;
    call.requestedModel = request.model;
    const requested = resolveModel(snapshot.routing.routes, call.consumer, request.model);
    const admitted = admit(snapshot.admission, call, requested);
    const route = admitted instanceof Promise ? await admitted : admitted;
    if (route !== requested) res.setHeader('x-sluice-served-model', route.name);
    const client: ClientBody = { dialect: 'openai', body };
    const answer = await invokeUpstream(
      route, (target) => target.provider.openEmbeddings(request, target.model, client), false, call.cancellation, call,
    );
    call.target = answer.target;
    const out = await answerOpenAIEmbeddings(answer.exchange, answer.text!, request);
    call.usage = out.usage;
    sendJson(res, 200, out.body);
  } catch (error) {
    sendError(res, openaiChatFrontDoor, call, error, context.logger);
  }
  const recorded = record(context, call);
  if (recorded !== undefined) await recorded;
}
