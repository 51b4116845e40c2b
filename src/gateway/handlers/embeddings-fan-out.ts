// Embeddings for more inputs than a target takes in one call (Bedrock Titan: one text per InvokeModel; Vertex's
// text-embedding-005: 250 texts and 20,000 tokens): the inputs cut into pieces each target can take, one upstream call
// per piece (a few at a time), the answers put back in input order and their usage summed. Each piece has the route's
// retry and fallback of its own.
import { SluiceError } from '../../errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import type { Usage } from '../../ir/usage.js';
import type { EmbeddingsTokenLimits } from '../../providers/provider.js';
import { tryParseJson } from '../../wire/json.js';
import type { Cancellation } from '../pipeline/cancellation.js';
import { invokeUpstream } from '../routing/invoke.js';
import type { ModelRoute, Target } from '../routing/model-routes.js';

/** Upstream calls in flight at once for one client request: a 2,048-input batch must not open 2,048 connections. */
const CONCURRENCY = 4;
/** The markers a tokenizer may add at a text's ends (a start-of-text, SentencePiece's leading word mark). */
const END_MARKERS = 2;

/**
 * A bound of the tokens a provider makes of one input, with no tokenizer of its own at hand: byte-level BPE and
 * SentencePiece with byte fallback make at most one token of each UTF-8 byte, plus their end markers; a token array is
 * its length. Past the provider's own limit on one input, it is refused (or cut), so it counts as that limit.
 */
function tokenBound(input: string | number[], perInput: number): number {
  const bound = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') + END_MARKERS : input.length;
  return Math.min(bound, perInput);
}

/**
 * The pieces the request is cut into so that every target of the route takes each in one call: consecutive inputs, at
 * most the fewest any target takes, and under the smallest token limit any target has; null when one call does.
 */
export function embeddingsPieces(route: ModelRoute, request: EmbeddingsRequest): EmbeddingsRequest[] | null {
  let inputsPerCall = Infinity;
  let tokens: EmbeddingsTokenLimits | undefined;
  for (const target of route.targets) {
    const provider = target.provider;
    inputsPerCall = Math.min(inputsPerCall, provider.embeddingsInputsPerCall?.(target.model) ?? Infinity);
    const limits = provider.embeddingsTokensPerCall?.(target.model);
    // The smallest call, with the largest one-input limit: an input is bounded by the limit of the target that takes most.
    if (limits !== undefined)
      tokens =
        tokens === undefined
          ? limits
          : { perCall: Math.min(tokens.perCall, limits.perCall), perInput: Math.max(tokens.perInput, limits.perInput) };
  }
  const inputs = request.input;
  if (tokens === undefined && inputsPerCall >= inputs.length) return null;
  const tokensPerCall = tokens?.perCall ?? Infinity;
  const pieces: EmbeddingsRequest[] = [];
  let start = 0;
  let used = 0;
  for (let at = 0; at < inputs.length; at++) {
    const cost = tokens === undefined ? 0 : tokenBound(inputs[at]!, tokens.perInput);
    if (at > start && (at - start === inputsPerCall || used + cost > tokensPerCall)) {
      pieces.push(piece(request, start, at));
      start = at;
      used = 0;
    }
    used += cost;
  }
  if (pieces.length === 0) return null;
  pieces.push(piece(request, start, inputs.length));
  return pieces;
}

function piece(request: EmbeddingsRequest, start: number, end: number): EmbeddingsRequest {
  return { ...request, input: request.input.slice(start, end) as EmbeddingsRequest['input'], single: false };
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
  pieces: readonly EmbeddingsRequest[],
  cancellation: Cancellation,
  log: PieceLog,
): Promise<FannedOut> {
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
      const response = answer.exchange.response(json, piece);
      // The pieces' vectors are put back by position: one missing would give every later text another's vector.
      if (response.data.length !== piece.input.length)
        throw new SluiceError(
          'upstream_unavailable',
          `Provider ${answer.exchange.provider} answered ${response.data.length} embeddings for ${piece.input.length} inputs.`,
        );
      answers[index] = { response, target: answer.target };
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
  // Characters billed are summed only if every piece reported them: a part of the figure would understate the cost.
  let characters: number | undefined = 0;
  for (const answer of answers) {
    data.push(...answer!.response.data);
    usage.inputTokens += answer!.response.usage.inputTokens;
    usage.reported &&= answer!.response.usage.reported;
    const billed = answer!.response.usage.billableCharacters;
    characters = characters === undefined || billed === undefined ? undefined : characters + billed;
  }
  if (characters !== undefined) usage.billableCharacters = characters;
  return { response: { model: request.model, data, usage }, target: answers[0]!.target };
}
