// A month's spend forecast, overall and per team, from the rollups' daily costs (the method is in forecast.ts).
import type { AnalyticsStore } from '../../store/analytics-store.js';
import { DAY_MS, dayFloor, hourCeil, type Span } from './calendar.js';
import { forecastMonth, HISTORY_DAYS, type DailyCost, type MonthForecast } from './forecast.js';

export interface SpendForecast {
  /** Of all the calls read: every team's, or the one team's when a team was given. */
  overall: MonthForecast;
  /** By team name ('' for calls without a team), in name order. */
  teams: Array<{ team: string } & MonthForecast>;
}

/**
 * One rollup read, and each team's first hour: daily cost by team from the history window's start (or the month's, if
 * earlier) to now (or the month's end, if earlier). The overall series is the teams' sum per day; its range is its own,
 * since ranges do not add.
 */
export async function forecastSpend(store: AnalyticsStore, month: Span, now: number, team?: string): Promise<SpendForecast> {
  const from = Math.min(month.start, dayFloor(now) - HISTORY_DAYS * DAY_MS);
  const to = Math.max(from + DAY_MS, Math.min(month.end, hourCeil(now)));
  const [rows, extent] = await Promise.all([
    store.usage({ from, to, bucket: 'day', groupBy: ['team'], filter: team === undefined ? {} : { team } }),
    store.usageExtent(),
  ]);
  const byTeam = new Map<string, DailyCost[]>();
  const overall: DailyCost[] = [];
  for (const row of rows) {
    const name = row.group.team ?? '';
    const cost = { dayStart: row.bucketStart, costNanoUsd: row.costNanoUsd };
    const series = byTeam.get(name) ?? [];
    series.push(cost);
    byTeam.set(name, series);
    overall.push(cost);
  }
  // A team's history starts at its own first call: the days before it, when the team was not yet calling through Sluice,
  // are unknown rather than idle, as the days before the ledger's first are (a team onboarded three days ago was
  // projected at a tenth of its rate).
  const names = [...byTeam.keys()].sort();
  const firstHours = await Promise.all(names.map((name) => store.firstHour({ team: name })));
  const forecast = (daily: DailyCost[], historyStart: number | null) => forecastMonth({ daily, month, now, historyStart });
  const ledgerStart = extent?.firstHour ?? null;
  return {
    // One team's (a team-owner's, or a team asked for) is that team's; everyone's, the ledger's.
    overall: forecast(overall, team === undefined ? ledgerStart : await store.firstHour({ team })),
    teams: names.map((name, i) => ({ team: name, ...forecast(byTeam.get(name)!, firstHours[i] ?? ledgerStart) })),
  };
}
