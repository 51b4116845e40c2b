// Small pieces every page uses: loading data with its error, empty states that say what to do, status badges.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Role, Session } from './api';
import { groupName, teamName } from './format';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; `reload` runs it again (after a change). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: null, error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

export function Show<T>({ loaded, children, what }: { loaded: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (loaded.error !== null)
    return (
      <p class="error" role="alert">
        Could not load {what}: {loaded.error}
      </p>
    );
  if (loaded.data === null)
    return (
      <p class="muted" aria-busy="true">
        Loading {what}…
      </p>
    );
  return <>{children(loaded.data)}</>;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children === undefined ? null : <p>{children}</p>}
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'good' | 'bad' | 'warn' | 'neutral'; children: ComponentChildren }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

export function Stat({ label, value, detail, testId }: { label: string; value: string; detail?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value" data-testid={testId}>
        {value}
      </div>
      {detail === undefined ? null : <div class="stat-detail">{detail}</div>}
    </div>
  );
}

export function Bar({ percent, label }: { percent: number; label: string }) {
  const clamped = Math.max(0, Math.min(100, percent));
  const tone = percent >= 100 ? 'bad' : percent >= 80 ? 'warn' : 'good';
  return (
    <div class="bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(clamped)} aria-label={label}>
      <div class={`bar-fill ${tone}`} style={{ width: `${clamped}%` }} />
    </div>
  );
}

/** What a role may change: admin and operator change everything here; a team-owner its own team's consumers and keys. */
export function canWrite(session: Session): boolean {
  return session.role === 'admin' || session.role === 'operator';
}

export function canManageConsumers(session: Session, team: string | null): boolean {
  return canWrite(session) || (session.role === 'team-owner' && team !== null && team === session.team);
}

export function roleLabel(role: Role): string {
  return { admin: 'Admin', operator: 'Operator', viewer: 'Viewer', 'team-owner': 'Team owner' }[role];
}

/** A team's name in a table or a detail, its absence in the muted tone of a placeholder. */
export function TeamName({ team }: { team: string | null | undefined }) {
  return team === null || team === undefined || team === '' ? <span class="muted">{teamName(team)}</span> : <>{team}</>;
}

/** A usage group's consumer (model, provider), its absence ("unattributed") in the muted tone of a placeholder. */
export function GroupName({ value }: { value: string | null | undefined }) {
  return value === null || value === undefined || value === '' ? <span class="muted">{groupName(value)}</span> : <>{value}</>;
}

/** A message after a change: what happened, or why it did not. */
export function Notice({ notice }: { notice: { tone: 'good' | 'bad'; text: string } | null }) {
  if (notice === null) return null;
  return (
    <p class={notice.tone === 'good' ? 'notice' : 'error'} role={notice.tone === 'good' ? 'status' : 'alert'}>
      {notice.text}
    </p>
  );
}
