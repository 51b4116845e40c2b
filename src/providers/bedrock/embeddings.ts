// Bedrock embeddings through InvokeModel: Amazon Titan (one text per call) and Cohere Embed (a batch per call).
// References: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
// and https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html
import { SluiceError } from '../../errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import { embeddingToBase64 } from '../shared/embedding-encoding.js';
import { asArray, asObject } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';

function unsupported(param: string, what: string): SluiceError {
  return new SluiceError('unsupported_by_provider', `Provider bedrock does not support ${what}.`, { param });
}

/** Titan embeds one text per InvokeModel call; Cohere Embed takes at most 96 texts. */
export function bedrockEmbeddingsInputsPerCall(modelId: string): number | undefined {
  if (modelId.includes('titan-embed')) return 1;
  if (modelId.includes('cohere.embed')) return 96;
  return undefined;
}

export function bedrockEmbeddingsBody(request: EmbeddingsRequest, modelId: string): object {
  const texts = request.input.map((item, i) => {
    if (typeof item !== 'string') throw unsupported(`input[${i}]`, 'token arrays as embedding input; send text');
    return item;
  });
  if (modelId.includes('titan-embed')) {
    if (texts.length !== 1)
      throw unsupported('input', 'several inputs in one call to a Titan embedding model (it takes one text per request)');
    return { inputText: texts[0], ...(request.dimensions !== undefined && { dimensions: request.dimensions }) };
  }
  if (modelId.includes('cohere.embed')) {
    if (request.dimensions !== undefined) throw unsupported('dimensions', 'dimensions with Cohere embedding models');
    return { texts, input_type: 'search_document' };
  }
  throw unsupported('model', `embeddings with ${modelId} (Titan and Cohere embedding models are supported)`);
}

export function bedrockEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  const root = asObject(body);
  let vectors: number[][];
  let tokens: number | undefined;
  if (Array.isArray(root.embedding)) {
    vectors = [root.embedding as number[]];
    tokens = asTokenCount(root.inputTextTokenCount);
  } else {
    // Cohere answers a plain list, or {float: [...]} when embedding types were asked for.
    const embeddings = Array.isArray(root.embeddings) ? root.embeddings : asArray(asObject(root.embeddings).float);
    vectors = embeddings as number[][];
  }
  return {
    model: '',
    data: vectors.map((vector) => (request.encodingFormat === 'base64' ? embeddingToBase64(vector) : vector)),
    usage: { inputTokens: tokens ?? 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: tokens !== undefined },
  };
}
