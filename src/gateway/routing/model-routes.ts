// The prebuilt routing table: requested model name -> ordered targets, each with its provider, pool and breaker.
import { createHash } from 'node:crypto';
import { Pool } from '../../wire/undici.js';
import type { RetryConfig, SluiceConfig } from '../../config/schema.js';
import type { LongContextPricing, Pricing, TierPricing } from '../../metering/cost.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/registry.js';
import { ProviderSecrets, SecretRedactor } from '../../providers/shared/secret-redactor.js';
import { describeResource, resourcePolicy, type ResourcePolicyEntry } from '../../policy/resources.js';
import type { ProviderTargets } from '../../config/provider-targets.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { guardedConnector } from './guarded-connector.js';

export interface Target {
  provider: Provider;
  pool: Pool;
  /** The model name the provider knows (an Azure deployment, a Bedrock model id, ...). */
  model: string;
  /** The model an Azure OpenAI deployment serves, where `model` is the customer's name for it (config `baseModel`). */
  baseModel: string | undefined;
  weight: number | undefined;
  breaker: CircuitBreaker;
  /** Config pricing for this model, else the catalog's for this provider and model (resolved at start). */
  pricing: Pricing | undefined;
  /** The resource this target is and what the resource policy says of it (resolved at start and on reload). */
  resource: ResourcePolicyEntry;
  /** Which configuration of its provider this is: the provider's fingerprint (ProviderSlot). */
  providerFingerprint: string;
}

export interface ModelRoute {
  name: string;
  /** The targets calls may go to: those the resource policy enforces against are left out. */
  targets: Target[];
  /** Every configured target, refused ones included (budgets scoped to a provider or resource match on these). */
  configuredTargets: Target[];
  /** Set when the resource policy leaves no target: the 403 every call to this model gets. */
  refusal: string | null;
  /** The highest price among the targets, for reserving a cost estimate before the target is known. */
  reservePricing: Pricing | undefined;
  /** The targets calls may go to that have no price: a cost budget counts their calls at $0 (mostly none). */
  unpricedTargets: readonly Target[];
  /** Sum of target weights; 0 when no target has a weight (plain ordered fallback). */
  totalWeight: number;
  retry: RetryConfig;
  /** The routing table's: what an upstream's error text passes through before it leaves Sluice. */
  redactor: SecretRedactor;
  /** What one attempt may wait for and hold, for a streamed call and for a whole answer; worked out once, here. */
  limits: { stream: AttemptLimits; whole: AttemptLimits };
}

export interface AttemptLimits {
  /** The longest wait for the answer's head: a stream's comes before its first token, a whole answer's once it is done. */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** The most of a non-streamed body held (routing.maxResponseBytes); streams are never held. */
  maxBodyBytes: number;
  /**
   * The attempt's longest life, from its request on the connection: a stream's retry.maxStreamMs (0 for none), a whole
   * answer's timeoutMs.
   */
  maxMs: number;
}

export type PriceLookup = (providerType: string, model: string) => Pricing | undefined;

interface ProviderSlot {
  provider: Provider;
  pool: Pool;
  /** The provider's config as JSON: a reload reuses the slot (its pool and warm connections) when unchanged. */
  config: string;
  /** Its credentials, configured and obtained since: they go with the provider into the next table. */
  secrets: ProviderSecrets;
  /**
   * A digest of what decides which upstream answers and as whom (type, baseUrl, credentials, region, headers ...), worked
   * out once per configuration: an answer the response cache kept under this provider's name is served only while the
   * provider is still configured the same, never after a reload points the name at another upstream or account. A
   * SHA-256, so the credentials it covers cannot be read back from a cache entry.
   */
  fingerprint: string;
}

export class RoutingTable {
  readonly routes: Map<string, ModelRoute>;
  readonly providers: Map<string, Provider>;
  /** Removes every provider's credentials from upstream error text; built with the table, over all its providers. */
  readonly redactor: SecretRedactor;
  private readonly slots: Map<string, ProviderSlot>;
  private readonly breakers: Map<string, CircuitBreaker>;
  /** Calls in flight that read this table (enter/leave). */
  private users: number;
  /** Set by retire() while calls still use this table: called when the last one leaves. */
  private whenUnused: (() => void) | null;

  /**
   * `previous`: the table being replaced by a reload, whose unchanged providers and breakers carry over. `targets`: where
   * upstream connections may go, checked on every new connection (when absent, anywhere).
   */
  constructor(config: SluiceConfig, lookupPrice: PriceLookup, previous?: RoutingTable, targets?: ProviderTargets) {
    this.routes = new Map();
    this.providers = new Map();
    this.slots = new Map();
    this.users = 0;
    this.whenUnused = null;
    for (const [name, providerConfig] of Object.entries(config.providers)) {
      const json = JSON.stringify(providerConfig);
      const old = previous?.slots.get(name);
      let slot: ProviderSlot;
      if (old !== undefined && old.config === json) slot = old;
      else {
        const secrets = ProviderSecrets.of(providerConfig);
        const provider = createProvider(name, providerConfig, secrets);
        // One pool per provider, so one provider's slow upstream cannot starve another's connections.
        const pool = new Pool(provider.origin, {
          connections: providerConfig.connections,
          keepAliveTimeout: 30_000,
          ...(targets === undefined ? {} : { connect: guardedConnector(targets, provider.origin) }),
        });
        slot = { provider, pool, config: json, secrets, fingerprint: providerFingerprint(providerConfig) };
      }
      this.slots.set(name, slot);
      this.providers.set(name, slot.provider);
    }
    // Every provider's secrets, not only the target's: a proxy in front of one upstream may echo another's key.
    const redactor = new SecretRedactor([...this.slots.values()].map((slot) => slot.secrets));
    this.redactor = redactor;
    const poolsByProvider = new Map<string, Pool>([...this.slots].map(([name, slot]) => [name, slot.pool]));
    const breakers = new Map<string, CircuitBreaker>();
    this.breakers = breakers;
    const { failures, cooldownMs } = config.routing.circuitBreaker;
    for (const model of config.models) {
      const targets = model.targets.map((target): Target => {
        const provider = this.providers.get(target.provider)!;
        // Two models sharing a provider model share its breaker: the upstream is the thing that fails.
        const key = `${target.provider}\u0000${target.model}`;
        let breaker = breakers.get(key) ?? previous?.breakers.get(key);
        if (breaker === undefined) breaker = new CircuitBreaker(failures, cooldownMs);
        breakers.set(key, breaker);
        return {
          provider,
          pool: poolsByProvider.get(target.provider)!,
          model: target.model,
          baseModel: target.baseModel,
          weight: target.weight,
          breaker,
          // A deployment of the customer's naming is priced as the model it serves.
          pricing: model.pricing ?? lookupPrice(provider.type, target.baseModel ?? target.model),
          resource: resourcePolicy(config, target.provider, target.model),
          providerFingerprint: this.slots.get(target.provider)!.fingerprint,
        };
      });
      const retry = { ...config.routing.retry, ...model.retry };
      const allowed = targets.filter((target) => target.resource.action !== 'enforce');
      const refused = targets.filter((target) => target.resource.action === 'enforce');
      this.routes.set(model.name, {
        name: model.name,
        targets: allowed,
        configuredTargets: targets,
        refusal:
          allowed.length > 0
            ? null
            : `The model '${model.name}' is not sanctioned for use: ${refused.map((t) => describeResource(t.resource)).join(', ')}.`,
        reservePricing: highestPricing(targets),
        unpricedTargets: allowed.filter((target) => target.pricing === undefined),
        totalWeight: allowed.reduce((sum, target) => sum + (target.weight ?? 0), 0),
        retry,
        limits: attemptLimits(retry, config.routing.maxResponseBytes),
        redactor,
      });
    }
  }

  /** A provider by its name with its pool, for calls outside any model's route (the follow-ups of a stored response). */
  upstream(name: string): { provider: Provider; pool: Pool } | undefined {
    const slot = this.slots.get(name);
    return slot === undefined ? undefined : { provider: slot.provider, pool: slot.pool };
  }

  /** A call that read this table begins: until it ends, a reload leaves its pools open. */
  enter(): void {
    this.users++;
  }

  /** That call has ended (its record queued). */
  leave(): void {
    if (--this.users === 0 && this.whenUnused !== null) {
      const retire = this.whenUnused;
      this.whenUnused = null;
      retire();
    }
  }

  /**
   * Closes the pools the next table does not reuse, once no call that read this table is left: a call still receiving
   * its body, or between a failed attempt and its retry or fallback, dispatches later, and a closed pool refuses it.
   */
  async retire(next: RoutingTable): Promise<void> {
    if (this.users > 0) await new Promise<void>((resolve) => (this.whenUnused = resolve));
    const kept = new Set([...next.slots.values()].map((slot) => slot.pool));
    await Promise.all([...this.slots.values()].filter((slot) => !kept.has(slot.pool)).map((slot) => slot.pool.close()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.pool.close()));
  }
}

/** The pool's size changes how many calls reach the upstream at once, not which upstream answers, so it is left out. */
function providerFingerprint(providerConfig: SluiceConfig['providers'][string]): string {
  const { connections: _connections, ...identity } = providerConfig;
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url').slice(0, 22);
}

/**
 * timeoutMs caps every wait, and a whole answer's whole time, its body included (one that trickles in never waits long
 * for any part); the stream's head and the silences between chunks have tighter limits of their own, and a stream may
 * have one on its whole length.
 */
function attemptLimits(retry: RetryConfig, maxBodyBytes: number): ModelRoute['limits'] {
  const bodyTimeoutMs = Math.min(retry.idleTimeoutMs, retry.timeoutMs);
  const headersTimeoutMs = Math.min(retry.firstByteTimeoutMs, retry.timeoutMs);
  return {
    stream: { headersTimeoutMs, bodyTimeoutMs, maxBodyBytes, maxMs: retry.maxStreamMs },
    whole: { headersTimeoutMs: retry.timeoutMs, bodyTimeoutMs, maxBodyBytes, maxMs: retry.timeoutMs },
  };
}

function highestPricing(targets: readonly Target[]): Pricing | undefined {
  let highest: Pricing | undefined;
  for (const { pricing } of targets) {
    if (pricing === undefined) continue;
    highest =
      highest === undefined
        ? { ...pricing }
        : {
            input: Math.max(highest.input, pricing.input),
            output: Math.max(highest.output, pricing.output),
            // A target priced by the character makes the reservation count characters too.
            ...((highest.inputCharacters ?? pricing.inputCharacters) !== undefined && {
              inputCharacters: Math.max(highest.inputCharacters ?? 0, pricing.inputCharacters ?? 0),
            }),
            ...maxPrice(highest, pricing, 'webSearch'),
            ...maxPrice(highest, pricing, 'fileSearch'),
            ...maxPrice(highest, pricing, 'request'),
            ...maxPrice(highest, pricing, 'usOnlyInference'),
            ...maxPrice(highest, pricing, 'fastMode'),
            ...maxPrice(highest, pricing, 'priorityMultiple'),
            ...maxPrice(highest, pricing, 'flexMultiple', 1),
            ...((highest.priority ?? pricing.priority) !== undefined && { priority: highestTier(highest, pricing, 'priority') }),
            ...((highest.flex ?? pricing.flex) !== undefined && { flex: highestTier(highest, pricing, 'flex') }),
            ...((highest.longContext ?? pricing.longContext) !== undefined && { longContext: highestLong(highest, pricing) }),
          };
  }
  return highest;
}

/**
 * The higher of two prices billed per use (a search, a call), or of two multiples of the token prices (US-only
 * inference), as a property to spread; none when neither has one.
 */
function maxPrice(
  a: Pricing,
  b: Pricing,
  key: 'webSearch' | 'fileSearch' | 'request' | 'usOnlyInference' | 'fastMode' | 'priorityMultiple' | 'flexMultiple',
  /** What a price without it pays: nothing, or for a multiple below 1 (flex), the standard prices. */
  absent = 0,
): Partial<Pricing> {
  const x = a[key];
  const y = b[key];
  return x === undefined && y === undefined ? {} : { [key]: Math.max(x ?? absent, y ?? absent) };
}

/** The higher of two prices at a tier, a price without the tier counting at its standard prices (as it is billed). */
function highestTier(a: Pricing, b: Pricing, tier: 'priority' | 'flex'): TierPricing {
  const x = a[tier] ?? a;
  const y = b[tier] ?? b;
  return { input: Math.max(x.input, y.input), output: Math.max(x.output, y.output) };
}

/**
 * The higher of two prices for a long prompt: past the lower threshold, at the higher of each target's prices for such a
 * prompt (a target without long-context prices bills it at its standard ones), so a reservation is never short.
 */
function highestLong(a: Pricing, b: Pricing): LongContextPricing {
  const x = a.longContext ?? a;
  const y = b.longContext ?? b;
  return {
    above: Math.min(a.longContext?.above ?? Infinity, b.longContext?.above ?? Infinity),
    input: Math.max(x.input, y.input),
    output: Math.max(x.output, y.output),
  };
}

/**
 * The order to try targets in: with weights, one weighted draw picks the first and the rest follow in config order;
 * without, config order. `keptBy`: the provider that keeps what the call continues (a Responses API
 * previous_response_id's): its targets go first, as only its account holds the conversation. Allocates only when
 * weights or `keptBy` are in play.
 */
export function attemptOrder(route: ModelRoute, random: () => number = Math.random, keptBy: string | null = null): readonly Target[] {
  const order = drawnOrder(route, random);
  if (keptBy === null || order.length === 1 || !order.some((target) => target.provider.name === keptBy)) return order;
  return [...order.filter((target) => target.provider.name === keptBy), ...order.filter((target) => target.provider.name !== keptBy)];
}

function drawnOrder(route: ModelRoute, random: () => number): readonly Target[] {
  if (route.totalWeight === 0 || route.targets.length === 1) return route.targets;
  let draw = random() * route.totalWeight;
  let first = route.targets.length - 1;
  for (let i = 0; i < route.targets.length; i++) {
    const weight = route.targets[i]!.weight ?? 0;
    if (draw < weight) {
      first = i;
      break;
    }
    draw -= weight;
  }
  const chosen = route.targets[first]!;
  return [chosen, ...route.targets.filter((target) => target !== chosen)];
}
