// Vertex AI wire types of its own, as far as Sluice reads or writes them (Gemini and Claude on Vertex speak the gemini
// and anthropic adapters' wires): the predict API of the text embedding models.
// Reference: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api

/** POST .../publishers/google/models/{model}:predict */
export interface VertexEmbeddingsRequest {
  instances: Array<{ content: string; task_type?: string; title?: string }>;
  parameters?: { outputDimensionality?: number; autoTruncate?: boolean };
}

export interface VertexEmbeddingsResponse {
  predictions: Array<{
    embeddings: { values: number[]; statistics?: { token_count?: number; truncated?: boolean } };
  }>;
  /** What Google bills text-embedding-00x for: characters (gemini-embedding-001 bills tokens). */
  metadata?: { billableCharacterCount?: number };
}
