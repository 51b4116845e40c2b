// The inventory's providers with the models routed to them, each model with its prices as the gateway charges them.
import { list } from '../../api';
import { perTarget, perUsePrices, tokenPrices, type TargetPrice } from '../../prices';
import { Empty, Show, SortHeader, sortRows, useLoad, useSorting } from '../../ui';

interface ProviderView {
  name: string;
  type: string;
  baseUrl?: string;
  credentials: string[];
}
interface ModelView {
  name: string;
  targets: Array<{ provider: string; model: string }>;
  /** Each target's prices as the gateway charges them (absent from a director before they were answered). */
  prices?: TargetPrice[];
}

function providerValue(provider: ProviderView, column: string): string {
  return column === 'type' ? provider.type : provider.name;
}

/**
 * A model's value in a column, as it sorts: its price is its first target's (where its calls go unless that target
 * fails) per 1M input tokens, as the Price column begins; a model without one has none and stays last.
 */
function modelValue(model: ModelView, column: string): number | string | null {
  if (column === 'price') return model.prices?.[0]?.pricing?.input ?? null;
  if (column === 'targets') return model.targets.map((target) => `${target.provider}/${target.model}`).join(' ');
  return model.name;
}

export function Providers() {
  const providerSorting = useSorting();
  const modelSorting = useSorting();
  const loaded = useLoad(() => Promise.all([list<ProviderView>('/api/providers'), list<ModelView>('/api/models')]), []);
  return (
    <Show loaded={loaded} what="providers">
      {([providers, models]) => (
        <>
          {/* Each in a card, as a page's second-level sections are elsewhere: a heading flush under a table reads as its row. */}
          <section class="card" aria-labelledby="providers-heading">
            <h2 id="providers-heading">Providers</h2>
            {providers.length === 0 ? (
              <Empty title="No providers">Declare one in sluice.yaml or with POST /api/providers (admin).</Empty>
            ) : (
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <SortHeader sorting={providerSorting} column="name">
                        Provider
                      </SortHeader>
                      <SortHeader sorting={providerSorting} column="type">
                        Type
                      </SortHeader>
                      <th scope="col">Base URL</th>
                      <th scope="col">Credentials</th>
                      <th scope="col">Models routed to it</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(providers, providerSorting, providerValue).map((provider) => (
                      <tr key={provider.name}>
                        <td>{provider.name}</td>
                        <td>{provider.type}</td>
                        <td class="wrap">
                          <code>{provider.baseUrl ?? '—'}</code>
                        </td>
                        <td>{provider.credentials.length === 0 ? <span class="muted">none</span> : provider.credentials.join(', ')}</td>
                        <td class="wrap">
                          {models
                            .filter((model) => model.targets.some((target) => target.provider === provider.name))
                            .map((model) => model.name)
                            .join(', ') || <span class="muted">none</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section class="card" aria-labelledby="models-heading">
            <h2 id="models-heading">Models</h2>
            {models.length === 0 ? (
              <Empty title="No models">Models are routes to provider models: declare them in sluice.yaml.</Empty>
            ) : (
              <div class="table-scroll">
                <table data-testid="models">
                  <thead>
                    <tr>
                      <SortHeader sorting={modelSorting} column="name">
                        Model
                      </SortHeader>
                      <SortHeader sorting={modelSorting} column="targets">
                        Targets, in order
                      </SortHeader>
                      <SortHeader sorting={modelSorting} column="price" descendingFirst>
                        Price
                      </SortHeader>
                      <th scope="col">Per use</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(models, modelSorting, modelValue).map((model) => (
                      <tr key={model.name}>
                        <td>{model.name}</td>
                        <td>{model.targets.map((target) => `${target.provider}/${target.model}`).join(' → ')}</td>
                        <td class="wrap">{perTarget(model.prices, tokenPrices)}</td>
                        <td class="wrap">{perTarget(model.prices, perUsePrices) || <span class="muted">none</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </Show>
  );
}
