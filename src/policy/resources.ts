// Resources: a model at a provider ("anthropic/claude-3-5-haiku-20241022"), each sanctioned, unsanctioned or unreviewed,
// and what a call to it gets under the configured resource policy. One answer to "which listed resource governs this
// model id" (governingResource) for the gateway's routing, discovery's enforcement and the director's analytics.
import type { ResourceAction, ResourceStatus } from '../config/governance-schema.js';
import type { SluiceConfig } from '../config/schema.js';

export interface ResourcePolicyEntry {
  /** The resource called: provider/model as the target names it. */
  id: string;
  status: ResourceStatus;
  /** The listed resource whose status this is: `id` itself, or the foundation model a Bedrock profile or ARN names. */
  governedBy: string;
  /** allow: served; monitor: served, logged and counted as a violation; enforce: never sent there. */
  action: ResourceAction;
}

export function resourceId(provider: string, model: string): string {
  return `${provider}/${model}`;
}

/** A Bedrock model ARN's resource type and id. */
const BEDROCK_ARN = /^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:(foundation-model|inference-profile|application-inference-profile)\/(.+)$/;
/** A cross-region inference profile id's geography prefix, before `<vendor>.<model>`. */
const BEDROCK_GEOGRAPHY = /^(?:us|eu|apac|jp|au|ca|us-gov|global)\.(?=[a-z0-9-]+\.[^.])/;

/**
 * The foundation model a Bedrock model id names through an ARN (`arn:aws:bedrock:...:foundation-model/anthropic.claude-...`,
 * `...:inference-profile/us.anthropic.claude-...`) or a cross-region inference profile (`us.`, `eu.`, `global.` ...);
 * null when the id is itself a foundation model, or an application inference profile (whose id is opaque: what it
 * routes to is not in its name). These forms are Bedrock's alone; no other provider's model ids take them.
 */
export function bedrockFoundationModel(model: string): string | null {
  const arn = BEDROCK_ARN.exec(model);
  const id = arn === null ? model : arn[1] === 'application-inference-profile' ? null : arn[2]!;
  if (id === null) return null;
  const base = id.replace(BEDROCK_GEOGRAPHY, '');
  return base === model ? null : base;
}

/** Resource statuses by id, as `resources` in sluice.yaml and the director's resource list hold them. */
export type ResourceStatuses = Readonly<Record<string, ResourceStatus>>;

/**
 * The listed resource whose status a call to `model` at `provider` takes: the resource itself when it is listed as
 * sanctioned or unsanctioned; else, for a Bedrock inference profile or ARN, its foundation model when that is listed (a
 * profile is the same model served from other regions, and reviewers list models, not every region's name for them);
 * else the resource itself, unreviewed unless listed.
 */
export function governingResource(statuses: ResourceStatuses, provider: string, model: string): { id: string; status: ResourceStatus } {
  const id = resourceId(provider, model);
  const own = Object.hasOwn(statuses, id) ? statuses[id] : undefined;
  if (own !== undefined && own !== 'unreviewed') return { id, status: own };
  const foundation = bedrockFoundationModel(model);
  if (foundation !== null) {
    const baseId = resourceId(provider, foundation);
    if (Object.hasOwn(statuses, baseId)) return { id: baseId, status: statuses[baseId]! };
  }
  return { id, status: own ?? 'unreviewed' };
}

export function resourcePolicy(
  config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>,
  provider: string,
  model: string,
): ResourcePolicyEntry {
  const id = resourceId(provider, model);
  const governing = governingResource(config.resources, provider, model);
  const status = governing.status;
  const action =
    status === 'sanctioned' ? 'allow' : status === 'unsanctioned' ? config.resourcePolicy.unsanctioned : config.resourcePolicy.unreviewed;
  return { id, status, governedBy: governing.id, action };
}

/** How a refusal or a listing names the resource and its status: `bedrock/us.x is unsanctioned (as bedrock/x)`. */
export function describeResource(entry: Pick<ResourcePolicyEntry, 'id' | 'status' | 'governedBy'>): string {
  return entry.governedBy === entry.id ? `${entry.id} is ${entry.status}` : `${entry.id} is ${entry.status} (as ${entry.governedBy})`;
}
