// The prebuilt routing table: requested model name -> ordered targets, each with its provider, pool and breaker.
import { Pool } from 'undici';
import type { Pricing, RetryConfig, SluiceConfig } from '../../config/schema.js';
import type { Provider } from '../../providers/provider.js';
import { createProvider } from '../../providers/registry.js';
import { CircuitBreaker } from './circuit-breaker.js';

export interface Target {
  provider: Provider;
  pool: Pool;
  /** The model name the provider knows (an Azure deployment, a Bedrock model id, ...). */
  model: string;
  weight: number | undefined;
  breaker: CircuitBreaker;
  /** Config pricing for this model, else the catalog's for this provider and model (resolved at start). */
  pricing: Pricing | undefined;
}

export interface ModelRoute {
  name: string;
  targets: Target[];
  /** Sum of target weights; 0 when no target has a weight (plain ordered fallback). */
  totalWeight: number;
  retry: RetryConfig;
}

export type PriceLookup = (providerType: string, model: string) => Pricing | undefined;

export class RoutingTable {
  readonly routes: Map<string, ModelRoute>;
  readonly providers: Map<string, Provider>;
  private readonly pools: Pool[];

  constructor(config: SluiceConfig, lookupPrice: PriceLookup) {
    this.routes = new Map();
    this.providers = new Map();
    this.pools = [];
    const poolsByProvider = new Map<string, Pool>();
    for (const [name, providerConfig] of Object.entries(config.providers)) {
      const provider = createProvider(name, providerConfig);
      this.providers.set(name, provider);
      // One pool per provider, so one provider's slow upstream cannot starve another's connections.
      const pool = new Pool(provider.origin, { connections: providerConfig.connections, keepAliveTimeout: 30_000 });
      poolsByProvider.set(name, pool);
      this.pools.push(pool);
    }
    const breakers = new Map<string, CircuitBreaker>();
    const { failures, cooldownMs } = config.routing.circuitBreaker;
    for (const model of config.models) {
      const targets = model.targets.map((target): Target => {
        const provider = this.providers.get(target.provider)!;
        // Two models sharing a provider model share its breaker: the upstream is the thing that fails.
        const key = `${target.provider}\u0000${target.model}`;
        let breaker = breakers.get(key);
        if (breaker === undefined) breakers.set(key, (breaker = new CircuitBreaker(failures, cooldownMs)));
        return {
          provider,
          pool: poolsByProvider.get(target.provider)!,
          model: target.model,
          weight: target.weight,
          breaker,
          pricing: model.pricing ?? lookupPrice(provider.type, target.model),
        };
      });
      this.routes.set(model.name, {
        name: model.name,
        targets,
        totalWeight: targets.reduce((sum, target) => sum + (target.weight ?? 0), 0),
        retry: { ...config.routing.retry, ...model.retry },
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }
}

/**
 * The order to try targets in: with weights, one weighted draw picks the first and the rest follow in config order;
 * without, config order. Allocates only when weights are in play.
 */
export function attemptOrder(route: ModelRoute, random: () => number = Math.random): readonly Target[] {
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
