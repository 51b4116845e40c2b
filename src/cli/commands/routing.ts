// `sluice providers|models list|get|delete`: the upstreams and the model routes over them. Models are created and
// changed with `sluice apply`; providers through the API (`POST /api/providers`) or sluice.yaml, since their
// credentials are write-only: listings show which credential fields are set, never a value.
import type { ModelConfig, ProviderConfig } from '../../config/schema.js';
import type { AdminCommand } from '../args.js';
import { policyCommand, times, type PolicyKind } from './budgets.js';

type ProviderView = Omit<
  ProviderConfig,
  'apiKey' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'serviceAccountJson' | 'headers'
> & {
  name: string;
  /** The credential fields that are set. */
  credentials: string[];
};

const where = (p: ProviderView) => p.baseUrl ?? [p.region, p.project, p.location].filter(Boolean).join(' ');

const PROVIDERS: PolicyKind<ProviderView> = {
  noun: 'provider',
  plural: 'providers',
  command: 'providers',
  path: '/api/providers',
  howToChange:
    'Providers are added and changed with POST/PATCH /api/providers (admin role) or in sluice.yaml: their credentials are write-only.',
  columns: ['NAME', 'TYPE', 'ENDPOINT', 'CREDENTIALS'],
  row: (p) => [p.name, p.type, where(p) || 'standard', p.credentials.join(',') || 'none'],
  fields: (p) => [
    ['name', p.name],
    ['type', p.type],
    ['endpoint', where(p) || 'standard'],
    ['api version', p.apiVersion ?? p.anthropicVersion ?? null],
    ['connections', p.connections],
    ['credentials set', p.credentials.join(', ') || 'none'],
    ...times(p),
  ],
};

const targets = (m: ModelConfig) =>
  m.targets.map((t) => `${t.provider}/${t.model}${t.weight === undefined ? '' : ` (${t.weight})`}`).join(' -> ');
const pricing = (m: ModelConfig) =>
  m.pricing === undefined
    ? 'catalog'
    : `$${m.pricing.input} in, $${m.pricing.output} out per 1M` +
      (m.pricing.inputCharacters === undefined ? '' : `, $${m.pricing.inputCharacters} per 1M characters in`);

const MODELS: PolicyKind<ModelConfig> = {
  noun: 'model',
  plural: 'models',
  command: 'models',
  path: '/api/models',
  columns: ['NAME', 'ROUTE', 'PRICING'],
  row: (m) => [m.name, targets(m), pricing(m)],
  fields: (m) => [
    ['name', m.name],
    ['route', targets(m)],
    ['pricing', pricing(m)],
    ['retry', m.retry === undefined ? 'default' : JSON.stringify(m.retry)],
    ...times(m),
  ],
};

export const providersCommand: AdminCommand = policyCommand(PROVIDERS);
export const modelsCommand: AdminCommand = policyCommand(MODELS);
