// The inventory's teams, created and edited as the role allows.
import { useState } from 'preact/hooks';
import { allPages, change, list, type Consumer, type Session, type Team } from '../../api';
import { Empty, may, Notice, Show, SortHeader, sortRows, useLoad, useSorting } from '../../ui';

/** How many of the consumers are the team's. */
function consumersOf(consumers: Consumer[], team: string): number {
  return consumers.filter((one) => one.team === team).length;
}

export function Teams({ session }: { session: Session }) {
  const sorting = useSorting();
  const loaded = useLoad(
    () =>
      Promise.all([list<Team>('/api/teams'), allPages<Consumer>('/api/consumers', session.team === null ? {} : { team: session.team })]),
    [],
  );
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      await change('POST', '/api/teams', { name, owner });
      setNotice({ tone: 'good', text: `Team ${name} created.` });
      setName('');
      setOwner('');
      loaded.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <>
      <Notice notice={notice} />
      {may(session, 'POST /api/teams') ? (
        <form class="inline" onSubmit={create} aria-label="New team">
          <label>
            Team name
            <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
          <label>
            Owner
            <input required value={owner} onInput={(event) => setOwner(event.currentTarget.value)} placeholder="alice@example.com" />
          </label>
          <button type="submit">Create team</button>
        </form>
      ) : null}
      <Show loaded={loaded} what="teams">
        {([teams, consumers]) =>
          teams.length === 0 ? (
            <Empty title="No teams yet">
              {may(session, 'POST /api/teams') ? 'Create one above.' : 'An admin or operator creates teams.'}
            </Empty>
          ) : (
            <div class="table-scroll">
              <table data-testid="teams">
                <thead>
                  <tr>
                    <SortHeader sorting={sorting} column="name">
                      Team
                    </SortHeader>
                    <SortHeader sorting={sorting} column="owner">
                      Owner
                    </SortHeader>
                    <SortHeader sorting={sorting} column="consumers" numeric>
                      Consumers
                    </SortHeader>
                  </tr>
                </thead>
                <tbody>
                  {sortRows(teams, sorting, (team, column) =>
                    column === 'consumers' ? consumersOf(consumers, team.name) : column === 'owner' ? team.owner : team.name,
                  ).map((team) => (
                    <tr key={team.name}>
                      <td>{team.name}</td>
                      <td>{team.owner}</td>
                      <td class="num">{consumersOf(consumers, team.name)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </>
  );
}
