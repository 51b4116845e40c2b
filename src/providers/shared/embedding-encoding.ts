// OpenAI's base64 form of an embedding (little-endian float32s), for providers that answer with plain numbers.

export function embeddingToBase64(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}
