// Assembles the discovery gateway: catalog, CA and leaves, proxy listener, OTLP intake, aggregation and reporting to the
// director (with its spool), and enforce mode's resource statuses. `sluice discover` runs it; tests start it in-process.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { DiscoveryConfig } from '../config/discovery-schema.js';
import type { SluiceConfig } from '../config/schema.js';
import { PriceCatalog } from '../metering/price-catalog.js';
import { loadAwsEventStreamCodec } from '../wire/aws-event-stream.js';
import { LeafCertificates, readCertificateAuthority } from './ca.js';
import { HostCatalog } from './catalog.js';
import { DiscoveryPolicy } from './enforce.js';
import { DiscoveryMetrics } from './metrics.js';
import { handleTraces } from './otlp.js';
import { DiscoveryProxy } from './proxy.js';
import { Aggregator, Reporter, type SeenCall } from './report.js';
import { ObservationSpool } from './spool.js';

export interface RunningDiscovery {
  port: number;
  url: string;
  proxy: DiscoveryProxy;
  metrics: DiscoveryMetrics;
  aggregator: Aggregator;
  reporter: Reporter | null;
  leaves: LeafCertificates;
  /** Sends what was aggregated now (tests; the reporter also does it every flushIntervalMs). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDiscovery(
  config: Pick<SluiceConfig, 'discovery' | 'resources' | 'resourcePolicy'>,
  log: Logger,
): Promise<RunningDiscovery> {
  const discovery: DiscoveryConfig = config.discovery;
  const ca = await readCertificateAuthority(discovery.ca.certFile, discovery.ca.keyFile);
  const leaves = new LeafCertificates(ca, discovery.ca.leafValidityDays);
  const extraCa = discovery.upstream.caFile === undefined ? null : await readFile(discovery.upstream.caFile, 'utf8');
  const catalog = HostCatalog.fromConfig(discovery);
  // The codec of Bedrock's event streams, which the proxy reads: loaded now rather than by the first one.
  loadAwsEventStreamCodec();
  const prices = new PriceCatalog();
  const policy = new DiscoveryPolicy(config);
  const observer = discovery.observer ?? `discovery@${hostname()}`;
  const aggregator = new Aggregator(observer);
  let reporter: Reporter | null = null;
  const metrics = new DiscoveryMetrics(() => reporter?.backlog ?? 0);
  const director = discovery.director;
  if (director !== undefined) {
    const spool = await ObservationSpool.open(director.spoolDir, director.maxSpoolBytes);
    if (spool.count > 0) log.info({ batches: spool.count }, 'discovery: replaying observations spooled by an earlier run');
    reporter = new Reporter(aggregator, director, spool, log, metrics);
    reporter.start();
  }
  // Without a director, what was seen is written to the log once a minute: the proxy is still useful on its own.
  const logTimer =
    director === undefined
      ? setInterval(() => {
          for (const observation of aggregator.drain()) log.info({ observation }, 'discovery: observed (no director configured)');
        }, 60_000)
      : null;
  logTimer?.unref();
  const record = (call: SeenCall) => aggregator.add(call);
  let policyTimer: NodeJS.Timeout | null = null;
  if (director !== undefined && discovery.mode === 'enforce') {
    await policy.refresh(director.url, director.token, log);
    // refresh() never rejects
    policyTimer = setInterval(() => void policy.refresh(director.url, director.token, log), director.policyRefreshMs);
    policyTimer.unref();
  }
  const proxy = new DiscoveryProxy({
    config: discovery,
    catalog,
    leaves,
    extraCa,
    policy,
    prices,
    metrics,
    log,
    record,
    local: (req, res) => {
      if (!discovery.otlp || req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/traces') return false;
      void handleTraces(req, res, discovery.maxParseBytes, prices, metrics, record).catch(() => res.destroy()); // answers its own failures
      return true;
    },
  });
  const port = await proxy.listen(discovery.host, discovery.port);
  return {
    port,
    url: `http://${discovery.host.includes(':') ? `[${discovery.host}]` : discovery.host}:${port}`,
    proxy,
    metrics,
    aggregator,
    reporter,
    leaves,
    flush: async () => {
      await reporter?.flush();
    },
    stop: async () => {
      if (policyTimer !== null) clearInterval(policyTimer);
      if (logTimer !== null) clearInterval(logTimer);
      await proxy.close();
      await reporter?.stop();
    },
  };
}
