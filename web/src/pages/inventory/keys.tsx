// A consumer's keys in the inventory: listed with their end and state, created (the secret shown once; its end the
// director's key expiry policy decides) and revoked.
import { useState } from 'preact/hooks';
import { change, list, type ConsumerKey } from '../../api';
import { dateTime } from '../../format';
import { Badge, Empty, Notice, Show, useLoad } from '../../ui';

/** Revoked, expired (its end has passed: the gateway refuses it) or active. */
function stateBadge(key: ConsumerKey) {
  if (key.revokedAt !== null) return <Badge tone="bad">revoked</Badge>;
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= Date.now()) return <Badge tone="bad">expired</Badge>;
  return <Badge tone="good">active</Badge>;
}

export function KeysPanel({ consumer, editable }: { consumer: string; editable: boolean }) {
  const keys = useLoad(() => list<ConsumerKey>(`/api/consumers/${encodeURIComponent(consumer)}/keys`), [consumer]);
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const made = await change<{ plaintext: string }>('POST', `/api/consumers/${encodeURIComponent(consumer)}/keys`, { name });
      setSecret(made!.plaintext);
      setCopied(false);
      setName('');
      keys.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  const revoke = async (key: ConsumerKey) => {
    try {
      await change('POST', `/api/consumers/${encodeURIComponent(consumer)}/keys/${encodeURIComponent(key.id)}/revoke`);
      setNotice({ tone: 'good', text: `Key ${key.name} revoked.` });
      keys.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <div class="subpanel">
      <h3>Keys of {consumer}</h3>
      {secret === null ? null : (
        <div class="secret" role="status">
          <p>The new key, shown this once: copy it now.</p>
          <code data-testid="new-key">{secret}</code>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <Notice notice={notice} />
      <Show loaded={keys} what="keys">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No keys">{editable ? 'Create one below.' : 'An admin or the team owner can create one.'}</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Last used</th>
                    <th scope="col">State</th>
                    {editable ? (
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {list.map((key) => (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{dateTime(key.createdAt)}</td>
                      <td>{key.expiresAt === null ? 'never' : dateTime(key.expiresAt)}</td>
                      <td>{dateTime(key.lastUsedAt)}</td>
                      <td>{stateBadge(key)}</td>
                      {editable ? (
                        <td>
                          {key.revokedAt === null ? (
                            <button type="button" class="small danger" onClick={() => void revoke(key)}>
                              Revoke
                            </button>
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      {editable ? (
        <form class="inline" onSubmit={create}>
          <label for={`key-name-${consumer}`}>New key name</label>
          <input
            id={`key-name-${consumer}`}
            required
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            placeholder="prod"
          />
          <button type="submit">Create key</button>
        </form>
      ) : null}
    </div>
  );
}
