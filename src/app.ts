// Assembles a running Sluice from a validated config: ledger, routing table, gateway and admin listeners.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/server.js';
import type { SluiceConfig } from './config/schema.js';
import type { GatewayContext } from './gateway/context.js';
import { RoutingTable } from './gateway/routing/model-routes.js';
import { GatewayServer } from './gateway/server.js';
import { LedgerWriter } from './ledger/writer.js';
import { PriceCatalog } from './metering/price-catalog.js';
import { GatewayMetrics } from './observability/metrics.js';
import { ConsumerDirectory } from './policy/consumers.js';
import { sqlitePath } from './store/sqlite.js';

export interface RunningSluice {
  gateway: { host: string; port: number };
  admin: { host: string; port: number };
  context: GatewayContext;
  /** Resolves when no call is in flight and every record so far is committed to the ledger. */
  settled(): Promise<void>;
  /** Drains calls in flight, flushes the ledger, closes connections. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

export async function startSluice(config: SluiceConfig, logger: Logger): Promise<RunningSluice> {
  const ledger = await LedgerWriter.open({
    path: sqlitePath(config.storage),
    flushIntervalMs: config.ledger.flushIntervalMs,
    maxBatch: config.ledger.maxBatch,
    logger,
  });
  const catalog = new PriceCatalog();
  const routing = new RoutingTable(config, (type, model) => catalog.lookup(type, model));
  const metrics = new GatewayMetrics(() => ledger.buffered);
  const context: GatewayContext = {
    routing,
    consumers: new ConsumerDirectory(config.consumers),
    maxBodyBytes: config.gateway.maxBodyBytes,
    ledger,
    metrics,
    logger,
  };
  const gateway = new GatewayServer(context);
  let stopping = false;
  const admin = createAdminServer({
    registry: metrics.registry,
    health: () => ({ ok: !stopping, detail: { models: routing.routes.size, providers: routing.providers.size, ledgerWritten: ledger.written } }),
  });
  const gatewayAddress = await gateway.listen(config.gateway.port, config.gateway.host);
  const adminAddress = await listen(admin, config.admin.port, config.admin.host);
  return {
    gateway: gatewayAddress,
    admin: adminAddress,
    context,
    async settled() {
      await gateway.settled();
      await ledger.drain();
    },
    async stop(drainTimeoutMs = 10_000) {
      if (stopping) return;
      stopping = true;
      await gateway.drain(drainTimeoutMs);
      await ledger.close();
      await new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeAllConnections();
      });
      await routing.close();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({ port: typeof address === "object" && address !== null ? address.port : port, host });
    });
  });
}
