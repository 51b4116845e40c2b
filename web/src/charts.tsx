// Charts drawn with uPlot: spend per day stacked by a dimension (bars, with a legend of our own), and row sparklines.
// uPlot draws on a canvas and does not stack, so a stack is drawn as cumulative bars, tallest first.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { count, usd } from './format';

const PALETTE = ['#2f6fde', '#e0662a', '#2a9d68', '#b04ec9', '#c9a227', '#d6456b', '#3aa6b9', '#7a6f5c'];
export const OTHER_COLOR = '#8a8f98';

export function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export interface StackedSeries {
  label: string;
  color: string;
  /** One value per x, in USD. */
  values: number[];
  /**
   * Its served calls of a model without a price, whose cost is in no value: the legend says so, as the chargeback's
   * Unpriced column does. A series of unpriced calls only is named "unpriced" in the legend, not "$0.00", and not drawn.
   */
  unpricedCalls?: number;
}

function calls(n: number): string {
  return `${count(n)} call${n === 1 ? '' : 's'}`;
}

/** What the legend and the chart's label say of a series: its spend, and its unpriced calls if any. */
function seriesSpend(one: StackedSeries, total: number): string {
  const unpriced = one.unpricedCalls ?? 0;
  if (total === 0 && unpriced > 0) return `unpriced (${calls(unpriced)})`;
  const spend = usd(Math.round(total * 1e9));
  return unpriced > 0 ? `${spend} + unpriced (${calls(unpriced)})` : spend;
}

interface StackedProps {
  /** Seconds since the epoch, one per bar. */
  x: number[];
  series: StackedSeries[];
  title: string;
  height?: number;
}

export function StackedBars({ x, series, title, height = 260 }: StackedProps) {
  const host = useRef<HTMLDivElement>(null);
  const totals = series.map((one) => one.values.reduce((sum, value) => sum + value, 0));
  useEffect(() => {
    const element = host.current;
    if (element === null) return undefined;
    // A series of unpriced calls only has no bar to draw; the legend names it.
    const drawn = series.filter((one) => one.values.some((value) => value !== 0));
    const cumulative: number[][] = [];
    drawn.forEach((one, index) => cumulative.push(one.values.map((value, at) => value + (index === 0 ? 0 : cumulative[index - 1]![at]!))));
    const axisColor = cssVar('--muted');
    const gridColor = cssVar('--grid');
    const bars = uPlot.paths.bars!({ size: [0.7, 40], align: 0 });
    const ordered = drawn.map((one, index) => ({ one, data: cumulative[index]! })).reverse();
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      title: undefined,
      legend: { show: false },
      // The bars are UTC days and the axis says so: uPlot places and dates its ticks in the browser's zone unless told.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, label: 'Day (UTC)', labelSize: 24 },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          label: 'Spend (USD)',
          labelSize: 24,
          size: 70,
          values: (_u, ticks) => ticks.map((tick) => `$${tick >= 1000 ? `${(tick / 1000).toFixed(1)}k` : tick.toFixed(tick < 10 ? 2 : 0)}`),
        },
      ],
      series: [
        { label: 'Day' },
        ...ordered.map(({ one }) => ({
          label: one.label,
          stroke: one.color,
          fill: one.color,
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
    };
    const plot = new uPlot(options, [x, ...ordered.map(({ data }) => data)], element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, height]);
  return (
    <figure class="chart">
      <div
        ref={host}
        role="img"
        aria-label={`${title}: ${series.map((one, index) => `${one.label} ${seriesSpend(one, totals[index]!)}`).join(', ')}`}
      />
      <figcaption>
        <ul class="legend">
          {series.map((one, index) => (
            <li key={one.label}>
              <span
                class={totals[index] === 0 ? 'swatch swatch-none' : 'swatch'}
                style={totals[index] === 0 ? undefined : { background: one.color }}
                aria-hidden="true"
              />
              {one.label} <span class="muted">{seriesSpend(one, totals[index]!)}</span>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

/** A small line of daily values, no axes; the label says what it shows. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const host = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const element = host.current;
    if (element === null || values.length === 0) return undefined;
    const x = values.map((_value, index) => index);
    const color = cssVar('--accent');
    const plot = new uPlot(
      {
        width: 120,
        height: 28,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max : 1] } },
        series: [{}, { stroke: color, width: 1.5, fill: `${color}33`, points: { show: false } }],
        padding: [2, 2, 2, 2],
      },
      [x, values],
      element,
    );
    return () => plot.destroy();
  }, [values]);
  return <span class="sparkline" ref={host} role="img" aria-label={label} />;
}
