// The first lines a start logs, so an operator sees what this process uses: its storage, where budgets count, and the
// providers with the URLs calls go to. No password, key or token appears in them.
import type { Logger } from 'pino';
import type { ProviderConfig, SluiceConfig } from '../config/schema.js';
import { counterSettings } from '../counters/open.js';
import type { Provider } from '../providers/provider.js';
import { describeStorage } from '../config/storage.js';

export interface StartupFacts {
  storage: string;
  counters: SluiceConfig['counters'];
  /** The providers in use (sluice.yaml's, or the director's), by name. */
  providers: Readonly<Record<string, ProviderConfig>>;
  /** The same providers as built, for the standard endpoint of those without a baseUrl. */
  built: ReadonlyMap<string, Provider>;
}

export function logStartup(logger: Logger, facts: StartupFacts): void {
  const storage = describeStorage(facts.storage);
  logger.info({ storage }, facts.storage.startsWith('sqlite:') ? `storage: SQLite at ${storage}` : `storage: PostgreSQL at ${storage}`);
  const counters = counterSettings(facts.counters);
  if (counters.url === 'memory') {
    logger.info({ counters: 'memory' }, 'counters: in memory (budgets and rate limits count in this process only)');
  } else {
    const where = withoutCredentials(counters.url);
    logger.info({ counters: where, failMode: counters.failMode }, `counters: Redis at ${where} (fail ${counters.failMode})`);
  }
  const providers = Object.entries(facts.providers).map(([name, config]) => ({
    name,
    type: config.type,
    baseUrl: withoutCredentials(config.baseUrl ?? facts.built.get(name)?.origin ?? '(standard endpoint)'),
  }));
  const list = providers.map((p) => (p.name === p.type ? `${p.name} ${p.baseUrl}` : `${p.name} (${p.type}) ${p.baseUrl}`)).join(', ');
  logger.info({ providers }, providers.length === 0 ? 'providers: none' : `providers: ${list}`);
}

/**
 * A URL without its user, password and query (which can carry a key); one that does not parse is named by nothing of it,
 * as any part may be secret.
 */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return url.includes('@') ? '(unparsable URL)' : url;
  }
}
