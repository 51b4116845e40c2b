// Histograms and counters whose label sets are bound once, then observed with plain arithmetic.
// prom-client validates and hashes the labels on every observe, even through labels(): measured at about 10 us
// per gateway call for our four observations, so the request path uses these instead. They register in a
// prom-client Registry (which renders the exposition format) through the metric interface it reads: get().
import type { Registry } from 'prom-client';

export type Labels = Record<string, string>;

interface MetricValue {
  metricName: string;
  labels: Labels;
  value: number;
}

export interface HistogramSeries {
  observe(value: number): void;
}

export interface CounterSeries {
  inc(value: number): void;
}

class BoundHistogram implements HistogramSeries {
  readonly labels: Labels;
  readonly counts: Float64Array;
  sum: number;
  count: number;
  private readonly bounds: readonly number[];

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
    this.sum = 0;
    this.count = 0;
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export class SeriesHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly series: Map<string, BoundHistogram>;

  constructor(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    this.series = new Map();
    options.registry.registerMetric(this as never);
  }

  bind(labels: Labels): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, (series = new BoundHistogram(labels, this.bounds)));
    return series;
  }

  /** Forgets a label set (its name left the config): it leaves the exposition; binding it again starts from zero. */
  unbind(labels: Labels): void {
    this.series.delete(JSON.stringify(labels));
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const series of this.series.values()) {
      // Bound but never observed (time to first token of a call that did not stream): nothing to say, no lines.
      if (series.count === 0) continue;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: String(bound) }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

class BoundCounter implements CounterSeries {
  readonly labels: Labels;
  value: number;

  constructor(labels: Labels) {
    this.labels = labels;
    this.value = 0;
  }

  inc(value: number): void {
    if (Number.isFinite(value) && value >= 0) this.value += value;
  }
}

export class SeriesCounter {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series: Map<string, BoundCounter>;

  constructor(options: { name: string; help: string; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.series = new Map();
    options.registry.registerMetric(this as never);
  }

  bind(labels: Labels): CounterSeries {
    const key = JSON.stringify(labels);
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, (series = new BoundCounter(labels)));
    return series;
  }

  unbind(labels: Labels): void {
    this.series.delete(JSON.stringify(labels));
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values = [...this.series.values()].map((series) => ({ metricName: this.name, labels: series.labels, value: series.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
