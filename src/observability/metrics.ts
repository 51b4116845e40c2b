// Prometheus metrics under the OpenTelemetry GenAI semantic-convention names, one registry per gateway instance.
import { Gauge, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series-metrics.js';
import type { Transaction } from '../ledger/transaction.js';


interface Series {
  duration: HistogramSeries;
  timeToFirstToken: HistogramSeries;
  inputTokens: HistogramSeries;
  outputTokens: HistogramSeries;
  cost: CounterSeries;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private readonly series: Map<string, Series>;
  private readonly tokenUsage: SeriesHistogram;
  private readonly duration: SeriesHistogram;
  private readonly timeToFirstToken: SeriesHistogram;
  private readonly cost: SeriesCounter;
  readonly ledgerBuffered: Gauge;

  constructor(ledgerBuffered: () => number) {
    this.registry = new Registry();
    this.series = new Map();
    this.tokenUsage = new SeriesHistogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per call (gen_ai.client.token.usage), by token type input or output',
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
      registry: this.registry,
    });
    this.duration = new SeriesHistogram({
      name: 'gen_ai_server_request_duration',
      help: 'Seconds from request to the end of the response (gen_ai.server.request.duration)',
      buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
      registry: this.registry,
    });
    this.timeToFirstToken = new SeriesHistogram({
      name: 'gen_ai_server_time_to_first_token',
      help: 'Seconds until the first streamed token reached the client (gen_ai.server.time_to_first_token)',
      buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registry: this.registry,
    });
    this.cost = new SeriesCounter({
      name: 'sluice_cost_micro_usd_total',
      help: 'Priced cost of calls in micro-USD',
      registry: this.registry,
    });
    this.ledgerBuffered = new Gauge({
      name: 'sluice_ledger_buffered_records',
      help: 'Ledger records waiting in memory for the next batch write',
      registers: [this.registry],
      collect() {
        this.set(ledgerBuffered());
      },
    });
  }

  observe(tx: Transaction): void {
    const key = `${tx.consumer}\u0000${tx.requestedModel}\u0000${tx.provider}\u0000${tx.status}\u0000${tx.operation}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = this.bind(tx);
      this.series.set(key, series);
    }
    series.duration.observe(tx.latencyMs / 1000);
    if (tx.timeToFirstTokenMs !== null) series.timeToFirstToken.observe(tx.timeToFirstTokenMs / 1000);
    if (tx.status < 400) {
      series.inputTokens.observe(tx.inputTokens);
      if (tx.operation === 'chat') series.outputTokens.observe(tx.outputTokens);
      if (tx.costMicroUsd !== null) series.cost.inc(tx.costMicroUsd);
    }
  }

  /** Label validation and hashing happen once per label set, not once per call. */
  private bind(tx: Transaction): Series {
    const labels = {
      consumer: tx.consumer ?? '',
      model: tx.requestedModel ?? '',
      provider: tx.provider ?? '',
      status: String(tx.status),
      gen_ai_operation_name: tx.operation,
    };
    return {
      duration: this.duration.bind(labels),
      timeToFirstToken: this.timeToFirstToken.bind(labels),
      inputTokens: this.tokenUsage.bind({ ...labels, gen_ai_token_type: 'input' }),
      outputTokens: this.tokenUsage.bind({ ...labels, gen_ai_token_type: 'output' }),
      cost: this.cost.bind(labels),
    };
  }
}
