// The inventory's teams, created and edited as the role allows.
import { useState } from 'preact/hooks';
import { allPages, change, list, type Consumer, type Session, type Team } from '../../api';
import { Empty, may, Notice, Show, useLoad } from '../../ui';

export function Teams({ session }: { session: Session }) {
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
              <table>
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col">Owner</th>
                    <th scope="col" class="num">
                      Consumers
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {teams.map((team) => (
                    <tr key={team.name}>
                      <td>{team.name}</td>
                      <td>{team.owner}</td>
                      <td class="num">{consumers.filter((one) => one.team === team.name).length}</td>
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
