// Who and what is in use: consumers (team, owner, labels, keys, a sparkline of their spend), teams, providers with
// their models, and resources with their review status and who calls them. Create and edit as the role allows.
import { useMemo, useState } from 'preact/hooks';
import type { Session } from '../api';
import { Consumers } from './inventory/consumers';
import { Providers } from './inventory/providers';
import { Resources } from './inventory/resources';
import { Teams } from './inventory/teams';
import { may } from '../ui';

type Tab = 'consumers' | 'teams' | 'providers' | 'resources';

export function InventoryPage({ session }: { session: Session }) {
  const [tab, setTab] = useState<Tab>('consumers');
  const tabs = useMemo(
    () =>
      [
        ['consumers', 'Consumers'],
        ['teams', 'Teams'],
        ...(may(session, 'GET /api/providers') ? [['providers', 'Providers & models']] : []),
        ...(may(session, 'GET /api/resources') ? [['resources', 'Resources']] : []),
      ] as Array<[Tab, string]>,
    [session],
  );
  return (
    <>
      <h1>Inventory</h1>
      <div class="tabs" role="tablist" aria-label="Inventory">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'consumers' ? (
          <Consumers session={session} />
        ) : tab === 'teams' ? (
          <Teams session={session} />
        ) : tab === 'providers' ? (
          <Providers />
        ) : (
          <Resources session={session} />
        )}
      </section>
    </>
  );
}
