// Embeddings for more inputs than a target takes in one call (Bedrock Titan: one text per InvokeModel): the inputs cut
// into pieces each target can take, one upstream call per piece (a few at a time), the answers put back in input order
// and their usage summed. Each piece has the route's retry and fallback of its own.
import { SluiceError } from '../../errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import type { Usage } from '../../ir/usage.js';
import { tryParseJson } from '../../wire/json.js';
import type { Cancellation } from '../pipeline/cancellation.js';
import { invokeUpstream } from '../routing/invoke.js';
import type { ModelRoute, Target } from '../routing/model-routes.js';

/** Upstream calls in flight at once for one client request: a 2,048-input batch must not open 2,048 connections. */
const CONCURRENCY = 4;

/** The fewest inputs per call any target of the route takes, when it is fewer than the request has; else null. */
export function piecesNeeded(route: ModelRoute, request: EmbeddingsRequest): number | null {
  let least = Infinity;
  for (const target of route.targets) least = Math.min(least, target.provider.embeddingsInputsPerCall?.(target.model) ?? Infinity);
  return least < request.input.length ? least : null;
}

/** The tries made for every piece together, for the ledger; filled as they are made, so a failure still counts them. */
export interface PieceLog {
  attempts: number;
  failures: string[];
}

export interface FannedOut {
  response: EmbeddingsResponse;
  /** The target that answered the first piece (the ledger names one). */
  target: Target;
}

export async function fanOutEmbeddings(
  route: ModelRoute,
  request: EmbeddingsRequest,
  perCall: number,
  cancellation: Cancellation,
  log: PieceLog,
): Promise<FannedOut> {
  const pieces: EmbeddingsRequest[] = [];
  for (let at = 0; at < request.input.length; at += perCall) {
    pieces.push({ ...request, input: request.input.slice(at, at + perCall) as EmbeddingsRequest['input'], single: false });
  }
  const answers: Array<FannedOut | undefined> = new Array(pieces.length);
  let next = 0;
  const worker = async () => {
    while (next < pieces.length && !cancellation.aborted) {
      const index = next++;
      const piece = pieces[index]!;
      const invocation = await invokeUpstream(
        route,
        (target) => target.provider.openEmbeddings(piece, target.model, null),
        false,
        cancellation,
      );
      log.attempts += invocation.attempts;
      log.failures.push(...invocation.failures);
      const answer = invocation.answer;
      if (answer === null) throw invocation.error;
      const json = tryParseJson(answer.text!);
      if (json === undefined)
        throw new SluiceError('upstream_unavailable', `Provider ${answer.exchange.provider} answered with a body that is not JSON.`);
      answers[index] = { response: answer.exchange.response(json, piece), target: answer.target };
    }
  };
  // The first failure fails the request: the other workers stop at their next piece, and cancelling ends the calls
  // they have in flight.
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pieces.length) }, worker));
  } catch (error) {
    cancellation.cancel(error instanceof Error ? error : new Error('an embeddings piece failed'));
    throw error;
  }
  const data: EmbeddingsResponse['data'] = [];
  const usage: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true };
  for (const answer of answers) {
    data.push(...answer!.response.data);
    usage.inputTokens += answer!.response.usage.inputTokens;
    usage.reported &&= answer!.response.usage.reported;
  }
  return { response: { model: request.model, data, usage }, target: answers[0]!.target };
}
