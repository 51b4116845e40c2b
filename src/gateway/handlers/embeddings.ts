// POST /v1/embeddings: the embeddings pipeline (OpenAI shape only; no other front door offers embeddings).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { ClientBody } from '../../providers/provider.js';
import { asObject, tryParseJson } from '../../providers/shared/json.js';
import { estimateEmbeddingTokens } from '../../metering/tokenizer.js';
import { openaiEmbeddingsUsage } from '../../providers/openai/response.js';
import type { GatewayContext } from '../context.js';
import { openaiChatFrontDoor } from '../frontdoors/openai-chat.js';
import { parseOpenAIEmbeddings, renderOpenAIEmbeddings } from '../frontdoors/openai-embeddings.js';
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
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
    call.consumer = authenticated instanceof Promise ? await authenticated : authenticated;
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
      route, (target) => target.provider.embeddingsRequest(request, target.model, client), false, call.cancellation, call,
    );
    call.target = answer.target;
    const text = answer.text!;
    const json = tryParseJson(text);
    if (json === undefined) throw new SluiceError('upstream_unavailable', `Provider ${answer.target.provider.name} answered with a body that is not JSON.`);
    if (answer.target.provider.dialect === 'openai') {
      // The provider's bytes go to the client untouched; a server that reports no usage is counted after the answer
      // (meter.ts), marked estimated.
      call.usage = openaiEmbeddingsUsage(asObject(json).usage);
      sendJson(res, 200, text);
    } else {
      const response = answer.target.provider.embeddingsResponse(json, request);
      if (!response.usage.reported) {
        // The client expects usage in the answer (Cohere on Bedrock gives none): count it now, marked estimated.
        response.usage.inputTokens = await estimateEmbeddingTokens(request);
      }
      call.usage = response.usage;
      sendJson(res, 200, renderOpenAIEmbeddings(response, request.model));
    }
  } catch (error) {
    sendError(res, openaiChatFrontDoor, call, error, context.logger);
  }
  const recorded = record(context, call);
  if (recorded !== undefined) await recorded;
}
