// Budgets with their burn-down (used so far, projected exhaustion) and monitor/enforce switch; templates with the
// budgets they are materialized into, and a form whose preview lists the consumers a template would cover.
import { useState } from 'preact/hooks';
import {
  allPages,
  api,
  hasBurnDown,
  change,
  list,
  type Budget,
  type BudgetTerms,
  type BurnDown,
  type Consumer,
  type Instance,
  type Session,
  type Stored,
  type Team,
  type Template,
} from '../api';
import { burnAmount, day } from '../format';
import { Badge, Bar, Empty, may, Notice, Show, SortHeader, sortRows, useLoad, useSorting } from '../ui';
import { budgetValue, limitText, MEASURES, scopeText, selectorText, windowText } from './budget-text';

function covers(selector: Template['selector'], consumer: Consumer): boolean {
  if (selector === 'everyone') return true;
  if ('team' in selector) return consumer.team === selector.team;
  return Object.entries(selector.labels).every(([key, value]) => consumer.labels[key] === value);
}

interface TermsDraft {
  measure: BudgetTerms['measure'];
  limit: string;
  window: string;
  mode: 'monitor' | 'enforce';
  alerts: string;
}

function TermsFields({ draft, setDraft }: { draft: TermsDraft; setDraft: (draft: TermsDraft) => void }) {
  return (
    <>
      <label>
        Measure
        <select
          value={draft.measure}
          onChange={(event) => setDraft({ ...draft, measure: event.currentTarget.value as TermsDraft['measure'] })}
        >
          {MEASURES.map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Limit
        <input
          required
          inputMode="decimal"
          value={draft.limit}
          onInput={(event) => setDraft({ ...draft, limit: event.currentTarget.value })}
        />
      </label>
      <label>
        Window
        <select value={draft.window} onChange={(event) => setDraft({ ...draft, window: event.currentTarget.value })}>
          {['hour', 'day', 'month'].map((window) => (
            <option key={window} value={window}>
              {window}
            </option>
          ))}
        </select>
      </label>
      <label>
        Mode
        <select value={draft.mode} onChange={(event) => setDraft({ ...draft, mode: event.currentTarget.value as TermsDraft['mode'] })}>
          <option value="enforce">enforce (refuse when spent)</option>
          <option value="monitor">monitor (count and report)</option>
        </select>
      </label>
      <label>
        Alert thresholds (%)
        <input
          value={draft.alerts}
          onInput={(event) => setDraft({ ...draft, alerts: event.currentTarget.value })}
          placeholder="50, 80, 100"
        />
      </label>
    </>
  );
}

function termsOf(draft: TermsDraft) {
  return {
    measure: draft.measure,
    limit: Number(draft.limit),
    window: draft.window,
    mode: draft.mode,
    alerts: draft.alerts
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map(Number),
  };
}

const NEW_TERMS: TermsDraft = { measure: 'cost_usd', limit: '100', window: 'month', mode: 'enforce', alerts: '50, 80, 100' };

function TemplateForm({ consumers, teams, onDone }: { consumers: Consumer[]; teams: Team[]; onDone: (text: string) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'team' | 'labels' | 'everyone'>('labels');
  const [team, setTeam] = useState(teams[0]?.name ?? '');
  const [labels, setLabels] = useState('');
  const [draft, setDraft] = useState<TermsDraft>({ ...NEW_TERMS, measure: 'total_tokens', limit: '2000000', window: 'day' });
  const [error, setError] = useState<string | null>(null);
  const labelMap = Object.fromEntries(
    labels
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.includes('='))
      .map((part) => {
        const [key, ...rest] = part.split('=');
        return [key!.trim(), rest.join('=').trim()];
      }),
  );
  const selector: Template['selector'] = kind === 'everyone' ? 'everyone' : kind === 'team' ? { team } : { labels: labelMap };
  const covered = kind === 'labels' && Object.keys(labelMap).length === 0 ? [] : consumers.filter((consumer) => covers(selector, consumer));
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await change('POST', '/api/budget-templates', { name, selector, ...termsOf(draft) });
      onDone(`Template ${name} created for ${covered.length} consumer${covered.length === 1 ? '' : 's'}.`);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <form class="editor" onSubmit={submit} aria-label="New budget template">
      <div class="fields">
        <label>
          Template name
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} placeholder="batch-daily" />
        </label>
        <label>
          Applies to
          <select aria-label="Applies to" value={kind} onChange={(event) => setKind(event.currentTarget.value as typeof kind)}>
            <option value="labels">consumers with labels</option>
            <option value="team">a team's consumers</option>
            <option value="everyone">every consumer</option>
          </select>
        </label>
        {kind === 'team' ? (
          <label>
            Team
            <select aria-label="Team" value={team} onChange={(event) => setTeam(event.currentTarget.value)}>
              {teams.map((one) => (
                <option key={one.name} value={one.name}>
                  {one.name}
                </option>
              ))}
            </select>
          </label>
        ) : kind === 'labels' ? (
          <label>
            Labels
            <input required value={labels} onInput={(event) => setLabels(event.currentTarget.value)} placeholder="tier=batch" />
          </label>
        ) : null}
        <TermsFields draft={draft} setDraft={setDraft} />
      </div>
      <div class="preview" role="status" aria-live="polite" data-testid="template-preview">
        {covered.length === 0 ? (
          'No consumer matches yet: the template applies to matching consumers as they are created.'
        ) : (
          <>
            Would cover {covered.length} consumer{covered.length === 1 ? '' : 's'}:{' '}
            {covered.map((consumer) => (
              <span key={consumer.name} class="tag">
                {consumer.name}
              </span>
            ))}
          </>
        )}
      </div>
      {error === null ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Create template</button>
    </form>
  );
}

function BudgetForm({ consumers, teams, onDone }: { consumers: Consumer[]; teams: Team[]; onDone: (text: string) => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState('everyone');
  const [draft, setDraft] = useState<TermsDraft>(NEW_TERMS);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    const [kind, value] = scope.split(':');
    try {
      await change('POST', '/api/budgets', { name, consumers: kind === 'everyone' ? 'everyone' : { [kind!]: value }, ...termsOf(draft) });
      onDone(`Budget ${name} created.`);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <form class="editor" onSubmit={submit} aria-label="New budget">
      <div class="fields">
        <label>
          Budget name
          <input required value={name} onInput={(event) => setName(event.currentTarget.value)} placeholder="payments-monthly" />
        </label>
        <label>
          Covers
          <select value={scope} onChange={(event) => setScope(event.currentTarget.value)}>
            <option value="everyone">everyone</option>
            {teams.map((team) => (
              <option key={team.name} value={`team:${team.name}`}>
                team {team.name}
              </option>
            ))}
            {consumers.map((consumer) => (
              <option key={consumer.name} value={`consumer:${consumer.name}`}>
                consumer {consumer.name}
              </option>
            ))}
          </select>
        </label>
        <TermsFields draft={draft} setDraft={setDraft} />
      </div>
      {error === null ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Create budget</button>
    </form>
  );
}

function Instances({ template }: { template: string }) {
  const loaded = useLoad(() => api<{ items: Instance[] }>(`/api/budget-templates/${encodeURIComponent(template)}/instances`), [template]);
  return (
    <Show loaded={loaded} what="instances">
      {(answer) =>
        answer.items.length === 0 ? (
          <p class="muted">Materialized for no consumer yet.</p>
        ) : (
          <ul class="plain instances" data-testid={`instances-${template}`}>
            {answer.items.map((instance) => (
              <li key={instance.name}>
                <div class="row-between">
                  <span>{instance.name}</span>
                  <span class="muted">
                    {instance.used === null
                      ? 'usage not tracked for windows under an hour'
                      : `${burnAmount(instance, 'used')} of ${burnAmount(instance, 'limit')}`}
                  </span>
                </div>
                {instance.usedPercent === null ? null : (
                  <Bar percent={instance.usedPercent} label={`${instance.name}: ${instance.usedPercent}% used`} />
                )}
              </li>
            ))}
          </ul>
        )
      }
    </Show>
  );
}

export function BudgetsPage({ session }: { session: Session }) {
  const sorting = useSorting();
  const writer = may(session, 'PUT /api/budgets/{name}');
  const [creating, setCreating] = useState<'budget' | 'template' | null>(null);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const loaded = useLoad(async () => {
    const [budgets, templates, consumers, teams] = await Promise.all([
      list<Stored<Budget>>('/api/budgets'),
      list<Stored<Template>>('/api/budget-templates'),
      allPages<Consumer>('/api/consumers'),
      list<Team>('/api/teams'),
    ]);
    const burns = await Promise.all(
      budgets.map((budget) =>
        hasBurnDown(budget.window)
          ? api<BurnDown>(`/api/budgets/${encodeURIComponent(budget.name)}/burn-down`).catch(() => null)
          : Promise.resolve(null),
      ),
    );
    return { budgets: budgets.map((budget, index) => ({ budget, burn: burns[index] ?? null })), templates, consumers, teams };
  }, []);
  const done = (text: string) => {
    setNotice({ tone: 'good', text });
    setCreating(null);
    loaded.reload();
  };
  const setMode = async (budget: Stored<Budget>, mode: 'monitor' | 'enforce') => {
    // The stored budget as its definition: without the times the API adds.
    const definition: Record<string, unknown> = { ...budget };
    delete definition.createdAt;
    delete definition.updatedAt;
    try {
      await change('PUT', `/api/budgets/${encodeURIComponent(budget.name)}`, { ...definition, mode });
      done(`Budget ${budget.name} now ${mode === 'monitor' ? 'monitors' : 'enforces'}.`);
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <>
      <h1>Budgets &amp; templates</h1>
      <Notice notice={notice} />
      <Show loaded={loaded} what="budgets">
        {({ budgets, templates, consumers, teams }) => (
          <>
            <section class="card">
              <div class="card-head">
                <h2>Budgets</h2>
                {writer ? (
                  <button
                    type="button"
                    aria-expanded={creating === 'budget'}
                    onClick={() => setCreating(creating === 'budget' ? null : 'budget')}
                  >
                    New budget
                  </button>
                ) : null}
              </div>
              {creating === 'budget' ? <BudgetForm consumers={consumers} teams={teams} onDone={done} /> : null}
              {budgets.length === 0 ? (
                <Empty title="No budgets yet">
                  {writer ? 'Create one with "New budget", or declare them in sluice.yaml.' : 'An admin or operator creates budgets.'}
                </Empty>
              ) : (
                <div class="table-scroll">
                  <table data-testid="budgets">
                    <thead>
                      <tr>
                        <SortHeader sorting={sorting} column="name">
                          Budget
                        </SortHeader>
                        <SortHeader sorting={sorting} column="covers">
                          Covers
                        </SortHeader>
                        {/* Limits of different measures (dollars, tokens, requests) have no one order. */}
                        <th scope="col">Limit</th>
                        <SortHeader sorting={sorting} column="used" descendingFirst class="bar-col">
                          Used this window
                        </SortHeader>
                        {/* The soonest to run out first. */}
                        <SortHeader sorting={sorting} column="projection">
                          Projection
                        </SortHeader>
                        <SortHeader sorting={sorting} column="mode">
                          Mode
                        </SortHeader>
                      </tr>
                    </thead>
                    <tbody>
                      {sortRows(budgets, sorting, budgetValue).map(({ budget, burn }) => (
                        <tr key={budget.name}>
                          <td>
                            <strong>{budget.name}</strong>
                            <br />
                            <small class="muted">
                              {budget.alerts.length === 0
                                ? 'no alerts'
                                : `alerts at ${budget.alerts.map((alert) => `${alert}%`).join(', ')}`}
                            </small>
                          </td>
                          <td>{scopeText(budget)}</td>
                          <td>
                            {limitText(budget)} <span class="muted">{windowText(budget.window)}</span>
                          </td>
                          <td class="bar-col">
                            {burn === null ? (
                              <span class="muted">
                                {hasBurnDown(budget.window) ? 'burn-down unavailable' : 'not tracked (window under an hour)'}
                              </span>
                            ) : (
                              <>
                                <Bar percent={burn.usedPercent} label={`${budget.name}: ${burn.usedPercent}% used`} />
                                <small>
                                  {burnAmount(burn, 'used')} · {burn.usedPercent}%
                                </small>
                              </>
                            )}
                          </td>
                          <td>
                            {burn === null ? (
                              '—'
                            ) : burn.exhausted ? (
                              <Badge tone="bad">exhausted</Badge>
                            ) : burn.exhaustsAt === null ? (
                              <span class="muted">lasts the window</span>
                            ) : (
                              <>runs out {day(burn.exhaustsAt)}</>
                            )}
                          </td>
                          <td>
                            {writer ? (
                              <select
                                aria-label={`Mode of ${budget.name}`}
                                value={budget.mode}
                                onChange={(event) => void setMode(budget, event.currentTarget.value as 'monitor' | 'enforce')}
                              >
                                <option value="enforce">enforce</option>
                                <option value="monitor">monitor</option>
                              </select>
                            ) : (
                              <Badge tone={budget.mode === 'enforce' ? 'good' : 'neutral'}>{budget.mode}</Badge>
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            <section class="card">
              <div class="card-head">
                <h2>Templates</h2>
                {writer ? (
                  <button
                    type="button"
                    aria-expanded={creating === 'template'}
                    onClick={() => setCreating(creating === 'template' ? null : 'template')}
                  >
                    New template
                  </button>
                ) : null}
              </div>
              {creating === 'template' ? <TemplateForm consumers={consumers} teams={teams} onDone={done} /> : null}
              {templates.length === 0 ? (
                <Empty title="No templates yet">
                  A template gives every matching consumer a budget of its own, e.g. 2M tokens a day for each batch job.
                </Empty>
              ) : (
                <div class="template-list">
                  {templates.map((template) => (
                    <article key={template.name} class="template">
                      <h3>
                        {template.name} <Badge tone={template.mode === 'enforce' ? 'good' : 'neutral'}>{template.mode}</Badge>
                      </h3>
                      <p class="muted">
                        {limitText(template)} {windowText(template.window)} for {selectorText(template)}
                      </p>
                      <Instances template={template.name} />
                    </article>
                  ))}
                </div>
              )}
            </section>
          </>
        )}
      </Show>
    </>
  );
}
