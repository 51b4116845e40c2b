// Sluice's own form of an embeddings call.
import type { Usage } from './usage.js';

export interface EmbeddingsRequest {
  model: string;
  input: string[] | number[][];
  /** True when the client sent a single string rather than a list. */
  single: boolean;
  encodingFormat?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsResponse {
  model: string;
  /** Either float vectors or base64 strings, as the client asked. */
  data: Array<number[] | string>;
  usage: Usage;
}
