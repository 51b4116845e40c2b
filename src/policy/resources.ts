// Resources: a model at a provider ("anthropic/claude-3-5-haiku-20241022"), each sanctioned, unsanctioned or unreviewed,
// and what a call to it gets under the configured resource policy.
import type { ResourceAction, ResourceStatus } from '../config/governance-schema.js';
import type { SluiceConfig } from '../config/schema.js';

export interface ResourcePolicyEntry {
  id: string;
  status: ResourceStatus;
  /** allow: served; monitor: served, logged and counted as a violation; enforce: never sent there. */
  action: ResourceAction;
}

export function resourceId(provider: string, model: string): string {
  return `${provider}/${model}`;
}

export function resourcePolicy(
  config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>,
  provider: string,
  model: string,
): ResourcePolicyEntry {
  const id = resourceId(provider, model);
  const status = config.resources[id] ?? 'unreviewed';
  const action =
    status === 'sanctioned' ? 'allow' : status === 'unsanctioned' ? config.resourcePolicy.unsanctioned : config.resourcePolicy.unreviewed;
  return { id, status, action };
}
