// The analytics' pure parts alone: month-end forecasts (weekly seasonal, flat, none, complete), budget burn-down
// (calendar and rolling windows), USD rendering of micro-USD, and the chargeback CSV.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { burnDown } from '../../src/director/analytics/burn-down.js';
import { DAY_MS, HOUR_MS, parseMonth } from '../../src/director/analytics/calendar.js';
import { chargebackCsv } from '../../src/director/analytics/chargeback.js';
import { forecastMonth, t80, type DailyCost } from '../../src/director/analytics/forecast.js';
import { formatUsd } from '../../src/director/analytics/money.js';

const at = (time: string) => Date.parse(time);
const USD = 1_000_000;
const DECEMBER = parseMonth('2026-12')!;

/** One cost per day from `first` (inclusive) to `last` (exclusive), by a function of the day. */
function days(first: string, last: string, cost: (day: number) => number): DailyCost[] {
  const out: DailyCost[] = [];
  for (let day = at(first); day < at(last); day += DAY_MS) out.push({ dayStart: day, costNanoUsd: cost(day) });
  return out;
}

describe('month-end forecast', () => {
  test('steady spend: the actual so far, plus the rest of today and every day left at the weekday means, with no spread', () => {
    const daily = [...days('2026-11-01', '2026-12-15', () => USD), { dayStart: at('2026-12-15T00:00:00Z'), costNanoUsd: USD / 2 }];
    const result = forecastMonth({ daily, month: DECEMBER, now: at('2026-12-15T12:00:00Z'), historyStart: at('2026-11-01T00:00:00Z') });
    // 14 full days and half of today so far; half of today and 16 days to come.
    assert.deepEqual(result, {
      actualToDate: 14.5 * USD,
      forecast: 31 * USD,
      low: 31 * USD,
      high: 31 * USD,
      method: 'weekly-seasonal-28d',
      historyDays: 28,
    });
  });

  test('weekly seasonality: quiet weekends make a month with eight weekend days cost 23 weekdays, not a flat 31 x mean', () => {
    const weekdaysOnly = (day: number) => ([0, 6].includes(new Date(day).getUTCDay()) ? 0 : 2 * USD);
    const result = forecastMonth({
      daily: days('2026-11-03', '2026-12-01', weekdaysOnly),
      month: DECEMBER,
      now: at('2026-12-01T00:00:00Z'),
      historyStart: at('2026-01-01T00:00:00Z'),
    });
    assert.equal(result.method, 'weekly-seasonal-28d');
    assert.deepEqual([result.actualToDate, result.forecast, result.low, result.high], [0, 46 * USD, 46 * USD, 46 * USD]);
  });

  test('with under 14 days of history: a flat mean, and an 80% range of t(n - 1) x s x sqrt(days left + days left² / n)', () => {
    const result = forecastMonth({
      daily: days('2026-11-24', '2026-12-01', (day) => ((day - at('2026-11-24')) / DAY_MS + 1) * USD),
      month: DECEMBER,
      now: at('2026-12-01T00:00:00Z'),
      historyStart: at('2026-11-24T00:00:00Z'),
    });
    // Costs 1..7 USD: mean 4, sample variance 28/6 on 6 degrees of freedom (t = 1.4398, not the normal's 1.2816); the
    // 31 days left are projected at a mean of 7 days, whose own error adds 31² / 7 to the 31 days' variance.
    assert.equal(t80(6), 1.4398);
    const margin = 1.4398 * Math.sqrt(28 / 6) * USD * Math.sqrt(31 + 31 ** 2 / 7);
    assert.equal(result.method, 'flat-mean');
    assert.equal(result.historyDays, 7);
    assert.equal(result.forecast, 124 * USD);
    assert.equal(result.low, Math.round(124 * USD - margin));
    assert.equal(result.high, Math.round(124 * USD + margin));
  });

  test('one day of history: projected at its cost, with no high end (null), not a zero-width range', () => {
    const result = forecastMonth({
      daily: [{ dayStart: at('2026-12-14T00:00:00Z'), costNanoUsd: 10 * USD }],
      month: DECEMBER,
      now: at('2026-12-15T00:00:00Z'),
      historyStart: at('2026-12-14T00:00:00Z'),
    });
    assert.deepEqual(result, {
      actualToDate: 10 * USD,
      forecast: 10 * USD + 17 * 10 * USD,
      low: 10 * USD,
      high: null,
      method: 'flat-mean',
      historyDays: 1,
    });
  });

  test("two days of history: the range is t(1) = 3.0777 wide per s, and grows with the mean's own error", () => {
    const result = forecastMonth({
      daily: [
        { dayStart: at('2026-12-13T00:00:00Z'), costNanoUsd: 8 * USD },
        { dayStart: at('2026-12-14T00:00:00Z'), costNanoUsd: 12 * USD },
      ],
      month: DECEMBER,
      now: at('2026-12-15T00:00:00Z'),
      historyStart: at('2026-12-13T00:00:00Z'),
    });
    // Mean 10, s = sqrt(8); 17 days left at a mean of 2 days.
    const margin = 3.0777 * Math.sqrt(8) * USD * Math.sqrt(17 + 17 ** 2 / 2);
    assert.deepEqual(
      [result.forecast, result.low, result.high],
      [190 * USD, Math.round(Math.max(20 * USD, 190 * USD - margin)), Math.round(190 * USD + margin)],
    );
    assert.ok(result.high! - result.forecast > 100 * USD, 'two days say little about the other 17');
  });

  test("days before the ledger's first are not history; days after it without calls count as zero", () => {
    const result = forecastMonth({
      daily: [{ dayStart: at('2026-12-10T00:00:00Z'), costNanoUsd: 10 * USD }],
      month: DECEMBER,
      now: at('2026-12-15T00:00:00Z'),
      historyStart: at('2026-12-10T00:00:00Z'),
    });
    // Five days of history (10th to 14th), 10 USD in all: 2 USD a day for the 17 days left.
    assert.deepEqual([result.method, result.historyDays, result.actualToDate, result.forecast], ['flat-mean', 5, 10 * USD, 44 * USD]);
  });

  test("the ledger's first day, begun after midnight, is part of a day: not history, though its spend is actual", () => {
    const result = forecastMonth({
      daily: [{ dayStart: at('2026-12-10T00:00:00Z'), costNanoUsd: 1 * USD }, ...days('2026-12-11', '2026-12-15', () => 4 * USD)],
      month: DECEMBER,
      now: at('2026-12-15T00:00:00Z'),
      historyStart: at('2026-12-10T18:00:00Z'),
    });
    // Four full days (11th to 14th) at 4 USD: 4 USD a day for the 17 days left, not (1 + 16) / 5 = 3.4.
    assert.deepEqual([result.method, result.historyDays, result.actualToDate, result.forecast], ['flat-mean', 4, 17 * USD, 85 * USD]);
  });

  test('the range never goes below what is already spent', () => {
    const spiky = days('2026-12-01', '2026-12-31', (day) => (new Date(day).getUTCDate() % 5 === 0 ? 50 * USD : 0));
    const result = forecastMonth({
      daily: spiky,
      month: DECEMBER,
      now: at('2026-12-31T01:00:00Z'),
      historyStart: at('2026-12-01T00:00:00Z'),
    });
    assert.equal(result.low, result.actualToDate);
    assert.ok(result.high !== null && result.high > result.forecast);
  });

  test('no full day of history yet: nothing projected; a month over: its actual; a month ahead: all projected', () => {
    const today = forecastMonth({
      daily: [{ dayStart: at('2026-12-15T00:00:00Z'), costNanoUsd: 3 }],
      month: DECEMBER,
      now: at('2026-12-15T09:00:00Z'),
      historyStart: at('2026-12-15T08:00:00Z'),
    });
    // What the rest of the month will cost is unknown, not nothing: no high end.
    assert.deepEqual(today, { actualToDate: 3, forecast: 3, low: 3, high: null, method: 'no-history', historyDays: 0 });
    const empty = forecastMonth({ daily: [], month: DECEMBER, now: at('2026-12-15T09:00:00Z'), historyStart: null });
    assert.deepEqual([empty.method, empty.forecast], ['no-history', 0]);
    const steady = days('2026-10-01', '2027-01-02', () => USD);
    const over = forecastMonth({
      daily: steady,
      month: parseMonth('2026-11')!,
      now: at('2027-01-01T12:00:00Z'),
      historyStart: at('2026-10-01T00:00:00Z'),
    });
    assert.deepEqual(over, {
      actualToDate: 30 * USD,
      forecast: 30 * USD,
      low: 30 * USD,
      high: 30 * USD,
      method: 'complete',
      historyDays: 0,
    });
    const ahead = forecastMonth({
      daily: steady,
      month: parseMonth('2027-02')!,
      now: at('2027-01-02T00:00:00Z'),
      historyStart: at('2026-10-01T00:00:00Z'),
    });
    assert.deepEqual([ahead.actualToDate, ahead.forecast], [0, 28 * USD]);
  });
});

describe('budget burn-down', () => {
  const window = { start: at('2026-12-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z') };
  const halfway = window.start + (window.end - window.start) / 2;

  test('a calendar window at its average rate since the start: runs out at start + limit / rate', () => {
    const result = burnDown({ limit: 100, used: 60, now: halfway, window });
    assert.equal(result.exhaustsAt, Math.ceil(window.start + (window.end - window.start) * (100 / 120)));
    assert.deepEqual([result.projectedAtEnd, result.remaining, result.exhausted, result.horizon], [120, 40, false, window.end]);
  });

  test('a calendar window that lasts: no exhaustion date; none either with no usage', () => {
    assert.deepEqual(
      [
        burnDown({ limit: 100, used: 40, now: halfway, window }).exhaustsAt,
        burnDown({ limit: 100, used: 40, now: halfway, window }).projectedAtEnd,
      ],
      [null, 80],
    );
    assert.equal(burnDown({ limit: 100, used: 0, now: halfway, window }).exhaustsAt, null);
  });

  test('a window the ledger began within: the rate since the ledger began, the time before it unknown rather than idle', () => {
    // 60 used in the quarter window since the ledger began, halfway through: 240 a window, 60 + 120 by its end.
    const since = halfway - (window.end - window.start) / 4;
    const result = burnDown({ limit: 150, used: 60, now: halfway, window, since });
    assert.equal(result.projectedAtEnd, 180);
    assert.equal(result.exhaustsAt, Math.ceil(halfway + (window.end - window.start) * (90 / 240)));
  });

  test('a budget already used up is exhausted now', () => {
    const result = burnDown({ limit: 100, used: 130, now: halfway, window });
    assert.deepEqual([result.exhausted, result.exhaustsAt, result.remaining], [true, halfway, 0]);
  });

  test('a rolling window: the recent rate against what rolls off, over the next window length', () => {
    const now = at('2026-12-10T12:00:00Z');
    const lengthMs = 24 * HOUR_MS;
    // 100 in the last 24h, 50 of it in the last 6h: the total grows by 50/6 - 100/24 per hour, 100/24 an hour.
    const rising = burnDown({
      limit: 150,
      used: 100,
      now,
      window: { start: now - lengthMs, end: now },
      rolling: { lengthMs, recentUsed: 50, recentMs: 6 * HOUR_MS },
    });
    assert.equal(rising.method, 'rolling-recent-rate');
    assert.ok(Math.abs(rising.exhaustsAt! - (now + 12 * HOUR_MS)) <= 1, `${rising.exhaustsAt}`);
    assert.deepEqual([rising.projectedAtEnd, rising.horizon], [200, now + lengthMs]);
    const steady = burnDown({
      limit: 150,
      used: 100,
      now,
      window: { start: now - lengthMs, end: now },
      rolling: { lengthMs, recentUsed: 25, recentMs: 6 * HOUR_MS },
    });
    assert.deepEqual([steady.exhaustsAt, steady.projectedAtEnd], [null, 100]);
  });

  test('a rolling window the usage began within: read since it began, and nothing rolls off for a window from then', () => {
    const now = at('2026-12-10T12:00:00Z');
    const lengthMs = 24 * HOUR_MS;
    // 40 since the usage began 4h ago (all of the latest 6h's): 10 an hour, with nothing rolling off for the next 20h.
    const input = {
      used: 40,
      now,
      window: { start: now - lengthMs, end: now },
      since: now - 4 * HOUR_MS,
      rolling: { lengthMs, recentUsed: 40, recentMs: 6 * HOUR_MS },
    };
    const rising = burnDown({ ...input, limit: 150 });
    assert.ok(Math.abs(rising.exhaustsAt! - (now + 11 * HOUR_MS)) <= 1, `${rising.exhaustsAt}`);
    assert.equal(rising.projectedAtEnd, 240);
    // 240 after 20h; then the 40 rolls off as fast as it comes: never 400.
    assert.equal(burnDown({ ...input, limit: 400 }).exhaustsAt, null);
  });
});

describe('money and the chargeback sheet', () => {
  test('micro-USD render as USD with six decimals, by integer arithmetic', () => {
    const cases: Array<[number, string]> = [
      [0, '0.000000'],
      [1, '0.000001'],
      [1_234_567, '1.234567'],
      [1_000_000, '1.000000'],
      [-5, '-0.000005'],
      [9_007_199_254_740_991, '9007199254.740991'],
    ];
    for (const [micro, usd] of cases) assert.equal(formatUsd(micro), usd, String(micro));
    assert.throws(() => formatUsd(0.5), RangeError);
  });

  test('the CSV has a header row, CRLF lines, quotes what needs quoting and defuses formulas', () => {
    const line = {
      calls: 5,
      inputTokens: 10,
      outputTokens: 5,
      cachedInputTokens: 1,
      totalTokens: 15,
      costNanoUsd: 1_500_000_000,
      unpricedCalls: 1,
      refusedCalls: 2,
      failedCalls: 1,
      cacheWriteTokens: 3,
      cacheWrite1hTokens: 2,
      savedNanoUsd: 250_000_000,
    };
    const csv = chargebackCsv('2026-11', [
      { team: 'ads, "growth"', ...line },
      { team: '=HYPERLINK("x")', ...line },
      { team: '', ...line },
    ]);
    assert.equal(
      csv,
      [
        'period,team,calls,input_tokens,output_tokens,cached_input_tokens,total_tokens,cost_usd,unpriced_calls,refused_calls,failed_calls,cache_write_tokens,cache_write_1h_tokens,saved_usd,cost_nano_usd,saved_nano_usd',
        '2026-11,"ads, ""growth""",5,10,5,1,15,1.500000,1,2,1,3,2,0.250000,1500000000,250000000',
        `2026-11,"'=HYPERLINK(""x"")",5,10,5,1,15,1.500000,1,2,1,3,2,0.250000,1500000000,250000000`,
        '2026-11,,5,10,5,1,15,1.500000,1,2,1,3,2,0.250000,1500000000,250000000',
        '',
      ].join('\r\n'),
    );
  });
});
