// What every OSCAL document Sluice renders shares: the OSCAL version, metadata, Sluice's own properties (under its
// namespace, as OSCAL requires of properties it does not define) and times as OSCAL writes them (UTC, with the zone).
import { readFileSync } from 'node:fs';
import { nameUuid } from '../uuid.js';

export const OSCAL_VERSION = '1.2.1';

/** The namespace of the properties OSCAL does not define. */
export const SLUICE_NS = 'https://github.com/sluice-gateway/sluice/ns/oscal';

/** The component every document describes: Sluice, the same UUID in every document and every deployment's version of it. */
export const COMPONENT_UUID = nameUuid('component:sluice');

let version: string | null = null;

/** Sluice's version, from its package.json, read once. */
export function sluiceVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export interface OscalProperty {
  name: string;
  value: string;
  ns?: string;
  class?: string;
}

/** A Sluice property; OSCAL property values are non-empty strings. */
export function prop(name: string, value: string | number): OscalProperty {
  return { name, ns: SLUICE_NS, value: String(value) === '' ? '-' : String(value) };
}

export function oscalTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function metadata(title: string, lastModified: number, remarks?: string) {
  return {
    title,
    'last-modified': oscalTime(lastModified),
    version: sluiceVersion(),
    'oscal-version': OSCAL_VERSION,
    props: [prop('generator', `sluice ${sluiceVersion()}`)],
    ...(remarks === undefined ? {} : { remarks }),
  };
}

/** Omits an array OSCAL would refuse empty. */
export function nonEmpty<K extends string, T>(key: K, items: readonly T[]): Partial<Record<K, T[]>> {
  return items.length === 0 ? {} : ({ [key]: [...items] } as Record<K, T[]>);
}
