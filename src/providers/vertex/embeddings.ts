// Vertex AI embeddings through the predict API: gemini-embedding-001 (one text per call) and the text-embedding and
// text-multilingual-embedding models (up to 250 texts per call).
// Reference: https://cloud.google.com/vertex-ai/generative-ai/docs/embeddings/get-text-embeddings (API limits)
import { SluiceError } from '../../errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import type { EmbeddingsTokenLimits } from '../provider.js';
import { embeddingToBase64 } from '../shared/embedding-encoding.js';
import { asArray, asObject } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import type { VertexEmbeddingsRequest } from './wire.js';

function takesBatches(model: string): boolean {
  return model.startsWith('text-embedding') || model.startsWith('text-multilingual-embedding');
}

/**
 * gemini-embedding-001 takes one instance per predict call; text-embedding-005 and text-multilingual-embedding-002 take
 * 250. Other models: no limit Sluice knows of.
 */
export function vertexEmbeddingsInputsPerCall(model: string): number | undefined {
  if (model.startsWith('gemini-embedding')) return 1;
  return takesBatches(model) ? 250 : undefined;
}

/** The batching models' 20,000 tokens a call, 2,048 an input (past it, with autoTruncate off, the input is refused). */
const BATCH_TOKEN_LIMITS: EmbeddingsTokenLimits = { perCall: 20_000, perInput: 2_048 };

export function vertexEmbeddingsTokensPerCall(model: string): EmbeddingsTokenLimits | undefined {
  return takesBatches(model) ? BATCH_TOKEN_LIMITS : undefined;
}

export function vertexEmbeddingsBody(request: EmbeddingsRequest): VertexEmbeddingsRequest {
  const instances = request.input.map((item) => {
    if (typeof item !== 'string')
      throw new SluiceError('unsupported_by_provider', 'Provider vertex does not support token arrays as embedding input; send text.', {
        param: 'input',
      });
    return { content: item };
  });
  // autoTruncate off: an input over the model's length is a 400, as on OpenAI, not the vector of a silently cut text.
  return {
    instances,
    parameters: { ...(request.dimensions !== undefined && { outputDimensionality: request.dimensions }), autoTruncate: false },
  };
}

export function vertexEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  const data: EmbeddingsResponse['data'] = [];
  let tokens = 0;
  let reported = true;
  for (const prediction of asArray(asObject(body).predictions)) {
    const embeddings = asObject(asObject(prediction).embeddings);
    const vector = asArray(embeddings.values) as number[];
    data.push(request.encodingFormat === 'base64' ? embeddingToBase64(vector) : vector);
    const count = asTokenCount(asObject(embeddings.statistics).token_count);
    if (count === undefined) reported = false;
    else tokens += count;
  }
  // What Google bills the text-embedding-00x models by; an answer without it leaves a per-character price unknown. A count
  // like a token count: one that is not (negative, fractional, absurd) is no count.
  const characters = asTokenCount(asObject(asObject(body).metadata).billableCharacterCount);
  return {
    model: '',
    data,
    // A count missing from any prediction leaves the whole to Sluice's tokenizer (marked estimated).
    usage: {
      inputTokens: reported ? tokens : 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reported,
      ...(characters !== undefined && { billableCharacters: characters }),
    },
  };
}
