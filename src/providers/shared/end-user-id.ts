// The end-user id a client passes along (OpenAI's `user`, Anthropic's `metadata.user_id`), for a provider whose rules for
// it differ from the client's API: an id it would refuse goes as a stand-in that is as stable and as opaque.
import { createHash } from 'node:crypto';

/** The SHA-256 of `id` in hex: 64 characters of [0-9a-f], the same for the same caller on every call. */
export function endUserDigest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
