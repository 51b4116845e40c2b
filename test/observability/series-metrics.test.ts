// The bound-series histogram and counter render as Prometheus expects: cumulative buckets, +Inf, _sum, _count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../src/observability/series-metrics.js';

test('a histogram renders cumulative buckets, +Inf, sum and count per label set', async () => {
  const registry = new Registry();
  const histogram = new SeriesHistogram({ name: 'demo_seconds', help: 'demo', buckets: [0.1, 1], registry });
  const a = histogram.bind({ model: 'a' });
  for (const value of [0.05, 0.5, 5]) a.observe(value);
  histogram.bind({ model: 'b' }).observe(0.2);
  assert.equal(histogram.bind({ model: 'a' }), a, 'binding the same labels again gives the same series');
  const text = await registry.metrics();
  assert.match(text, /# TYPE demo_seconds histogram/);
  assert.match(text, /demo_seconds_bucket\{model="a",le="0.1"\} 1\n/);
  assert.match(text, /demo_seconds_bucket\{model="a",le="1"\} 2\n/);
  assert.match(text, /demo_seconds_bucket\{model="a",le="\+Inf"\} 3\n/);
  assert.match(text, /demo_seconds_sum\{model="a"\} 5.55\n/);
  assert.match(text, /demo_seconds_count\{model="a"\} 3\n/);
  assert.match(text, /demo_seconds_bucket\{model="b",le="1"\} 1\n/);
});

test('a counter adds only finite, non-negative amounts', async () => {
  const registry = new Registry();
  const counter = new SeriesCounter({ name: 'demo_total', help: 'demo', registry });
  const series = counter.bind({ team: 'x' });
  series.inc(3);
  series.inc(-1);
  series.inc(Number.NaN);
  series.inc(4);
  assert.match(await registry.metrics(), /demo_total\{team="x"\} 7\n/);
});

test('a histogram never observed renders no lines, and an unbound label set leaves the exposition', async () => {
  const registry = new Registry();
  const histogram = new SeriesHistogram({ name: 'demo_seconds', help: 'demo', buckets: [1], registry });
  const counter = new SeriesCounter({ name: 'demo_total', help: 'demo', registry });
  histogram.bind({ model: 'quiet' });
  histogram.bind({ model: 'gone' }).observe(0.5);
  counter.bind({ model: 'gone' }).inc(1);
  histogram.unbind({ model: 'gone' });
  counter.unbind({ model: 'gone' });
  const text = await registry.metrics();
  assert.doesNotMatch(text, /model="quiet"/);
  assert.doesNotMatch(text, /model="gone"/);
  histogram.bind({ model: 'gone' }).observe(2);
  assert.match(await registry.metrics(), /demo_seconds_count\{model="gone"\} 1\n/);
});
