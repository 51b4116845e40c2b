// The discovery proxy's metrics, in a prom-client registry of its own, served at /metrics on the proxy's port.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class DiscoveryMetrics {
  readonly registry: Registry;
  readonly connections: Counter<'kind'>;
  readonly calls: Counter<'provider' | 'outcome'>;
  readonly observationsSent: Counter;
  readonly observationsSpooled: Counter;
  readonly observationsDropped: Counter;
  readonly observationsRejected: Counter;
  readonly spans: Counter<'result'>;
  readonly backlog: Gauge;
  readonly latency: Histogram<'provider'>;
  readonly ttfb: Histogram<'provider'>;

  constructor(backlog: () => number) {
    this.registry = new Registry();
    const registers = [this.registry];
    this.connections = new Counter({
      name: 'sluice_discovery_connections_total',
      help: 'Client connections and requests by kind: tunneled (untouched), intercepted, http (absolute-form)',
      labelNames: ['kind'],
      registers,
    });
    this.calls = new Counter({
      name: 'sluice_discovery_calls_total',
      help: 'AI calls read, by provider and outcome (observed, unparsed, blocked, upstream_error)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.observationsSent = new Counter({
      name: 'sluice_discovery_observations_sent_total',
      help: 'Observations the director took',
      registers,
    });
    this.observationsSpooled = new Counter({
      name: 'sluice_discovery_observations_spooled_total',
      help: 'Observations written to the spool',
      registers,
    });
    this.observationsDropped = new Counter({
      name: 'sluice_discovery_observations_dropped_total',
      help: 'Observations dropped: the spool was full',
      registers,
    });
    this.observationsRejected = new Counter({
      name: 'sluice_discovery_observations_rejected_total',
      help: 'Observations the director refused as invalid (400)',
      registers,
    });
    this.spans = new Counter({
      name: 'sluice_discovery_otlp_spans_total',
      help: 'OTLP spans received, by result (observed, ignored)',
      labelNames: ['result'],
      registers,
    });
    const buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
    this.latency = new Histogram({
      name: 'sluice_discovery_call_seconds',
      help: 'AI calls from request to the end of the answer',
      labelNames: ['provider'],
      buckets,
      registers,
    });
    this.ttfb = new Histogram({
      name: 'sluice_discovery_first_byte_seconds',
      help: "AI calls from request to the answer's first byte",
      labelNames: ['provider'],
      buckets,
      registers,
    });
    this.backlog = new Gauge({
      name: 'sluice_discovery_backlog_batches',
      help: 'Batches of observations waiting for the director',
      registers,
      collect() {
        this.set(backlog());
      },
    });
  }
}
