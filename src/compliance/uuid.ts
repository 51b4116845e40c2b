// OSCAL's UUIDs: name-based (v5, RFC 9562 section 5.5) where a reader must see the same thing across documents (the
// component, its control implementations, a POA&M item), random (v4) where each is new (an assessment, an observation).
// node:crypto makes v4 only; v5 is a SHA-1 of the namespace and the name with the version and variant bits set.
import { createHash, randomUUID } from 'node:crypto';

/** The namespace of every name-based UUID Sluice makes (itself a v4, chosen once). */
export const SLUICE_NAMESPACE = '5b0c6f3e-2a7d-4c1e-9f4b-8d2e6a1c3b57';

export function nameUuid(name: string, namespace: string = SLUICE_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newUuid(): string {
  return randomUUID();
}
