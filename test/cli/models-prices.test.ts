// `sluice models` run as a user runs it (the real CLI in a child process against a real Sluice): each model's prices as
// the gateway charges them, per token and per use (web and file searches, grounded prompts, every call), from the
// model's own pricing or the price catalog, in the table, in `get`, and complete in --json.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { cliFor, row } from '../support/cli.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-cli-models-prices';
const catalog = new PriceCatalog();
const listed = (type: string, model: string) => {
  const price = catalog.lookup(type, model);
  assert.ok(price !== undefined, `${type}/${model} is in the catalog`);
  return price;
};
const usd = (value: number | undefined) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(value!);

describe('sluice models shows per-token and per-use prices', () => {
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  before(async () => {
    const nowhere = 'http://127.0.0.1:9';
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: the prices are read, not charged.
      providers: {
        openai: { type: 'openai', baseUrl: `${nowhere}/v1`, apiKey: 'sk-upstream-not-real' },
        anthropic: { type: 'anthropic', baseUrl: nowhere, apiKey: 'sk-ant-not-real' },
        gemini: { type: 'gemini', baseUrl: nowhere, apiKey: 'gemini-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini-2024-07-18' }] },
        { name: 'search', targets: [{ provider: 'openai', model: 'gpt-4o-search-preview' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'grounded', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        {
          name: 'house',
          targets: [{ provider: 'openai', model: 'house-model' }],
          pricing: { input: 1, output: 2, cachedInput: 0.5, webSearch: 5, fileSearch: 2.5, request: 0.075 },
        },
        { name: 'mystery', targets: [{ provider: 'openai', model: 'not-in-any-catalog' }] },
        {
          name: 'house-long',
          targets: [{ provider: 'openai', model: 'house-long-model' }],
          pricing: { input: 1, output: 2, longContext: { above: 100_000, input: 2, output: 4, cachedInput: 0.4 } },
        },
        {
          name: 'mixed',
          targets: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'gemini', model: 'gemini-2.5-flash' },
          ],
        },
      ],
      consumers: [],
    });
    cli = cliFor(sluice.adminURL, BOOTSTRAP);
  });

  after(async () => {
    await sluice?.stop();
  });

  test('the list has a PER USE column beside the per-token PRICING, from the catalog or the model', async () => {
    const list = await cli(['models', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout.split('\n')[0]!, /^NAME\s+ROUTE\s+PRICING\s+PER USE$/);
    const mini = listed('openai', 'gpt-4o-mini');
    assert.deepEqual(row(list.stdout, 'gpt-4o-mini'), [
      'gpt-4o-mini',
      'openai/gpt-4o-mini-2024-07-18',
      `${usd(mini.input)} in, ${usd(mini.output)} out per 1M tokens (catalog)`,
      `${usd(mini.webSearch)} per 1K web searches, ${usd(mini.fileSearch)} per 1K file searches`,
    ]);
    const search = listed('openai', 'gpt-4o-search-preview');
    assert.equal(row(list.stdout, 'search')?.[3], `${usd(search.request)} per 1K calls`);
    assert.equal(row(list.stdout, 'claude')?.[3], `${usd(listed('anthropic', 'claude-sonnet-4-5').webSearch)} per 1K web searches`);
    assert.equal(row(list.stdout, 'grounded')?.[3], `${usd(listed('gemini', 'gemini-2.5-flash').groundedPrompt)} per 1K grounded prompts`);
    assert.deepEqual(row(list.stdout, 'house')?.slice(2), [
      '$1.00 in, $2.00 out per 1M tokens',
      '$5.00 per 1K web searches, $2.50 per 1K file searches, $0.075 per 1K calls',
    ]);
    // No price anywhere: said so, and no per-use price.
    assert.deepEqual(row(list.stdout, 'mystery')?.slice(2), ['unpriced', '-']);
    // Targets priced apart are each named.
    const flash = listed('gemini', 'gemini-2.5-flash');
    assert.equal(
      row(list.stdout, 'mixed')?.[3],
      `openai/gpt-4o-mini: ${usd(mini.webSearch)} per 1K web searches, ${usd(mini.fileSearch)} per 1K file searches; ` +
        `gemini/gemini-2.5-flash: ${usd(flash.groundedPrompt)} per 1K grounded prompts`,
    );
  });

  test('get shows the cached-input price too; --json carries every price of every target', async () => {
    const house = await cli(['models', 'get', 'house']);
    assert.equal(house.code, 0, house.stderr);
    assert.match(house.stdout, /^pricing +\$1\.00 in, \$2\.00 out, \$0\.50 cached in per 1M tokens$/m);
    assert.match(house.stdout, /^per use +\$5\.00 per 1K web searches, \$2\.50 per 1K file searches, \$0\.075 per 1K calls$/m);
    const json = await cli(['models', 'get', 'grounded', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { prices: Array<{ provider: string; model: string; source: string; pricing: unknown }> };
    assert.deepEqual(body.prices, [
      { provider: 'gemini', model: 'gemini-2.5-flash', source: 'catalog', pricing: { ...listed('gemini', 'gemini-2.5-flash') } },
    ]);
    const all = JSON.parse((await cli(['models', 'list', '--json'])).stdout) as {
      items: Array<{ name: string; prices: Array<{ source: string | null; pricing: Record<string, number> | null }> }>;
    };
    const byName = new Map(all.items.map((item) => [item.name, item.prices]));
    assert.equal(byName.get('search')![0]!.pricing!.request, listed('openai', 'gpt-4o-search-preview').request);
    assert.deepEqual(byName.get('house')![0], {
      provider: 'openai',
      model: 'house-model',
      source: 'pricing',
      pricing: { input: 1, output: 2, cachedInput: 0.5, webSearch: 5, fileSearch: 2.5, request: 0.075 },
    });
    assert.deepEqual(byName.get('mystery')![0], { provider: 'openai', model: 'not-in-any-catalog', source: null, pricing: null });
  });

  test('the prices of a long prompt: in the list the long input and output, in get every long price', async () => {
    const list = await cli(['models', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      row(list.stdout, 'house-long')?.[2],
      '$1.00 in, $2.00 out per 1M tokens; prompts over 100,000 tokens: $2.00 in, $4.00 out',
    );
    const sonnet = listed('anthropic', 'claude-sonnet-4-5');
    const long = sonnet.longContext!;
    assert.equal(
      row(list.stdout, 'claude')?.[2],
      `${usd(sonnet.input)} in, ${usd(sonnet.output)} out per 1M tokens; prompts over 200,000 tokens: ${usd(long.input)} in, ${usd(long.output)} out (catalog)`,
    );
    const claude = await cli(['models', 'get', 'claude']);
    assert.equal(claude.code, 0, claude.stderr);
    const pricing = claude.stdout.split('\n').find((line) => line.startsWith('pricing'));
    assert.equal(
      pricing?.replace(/^pricing +/, ''),
      `${usd(sonnet.input)} in, ${usd(sonnet.output)} out, ${usd(sonnet.cachedInput)} cached in, ${usd(sonnet.cacheWrite)} cache write, ` +
        `${usd(sonnet.cacheWrite1h)} 1-hour cache write per 1M tokens; prompts over 200,000 tokens: ${usd(long.input)} in, ` +
        `${usd(long.output)} out, ${usd(long.cachedInput)} cached in, ${usd(long.cacheWrite)} cache write, ${usd(long.cacheWrite1h)} 1-hour cache write (catalog)`,
    );
    const house = await cli(['models', 'get', 'house-long']);
    assert.match(
      house.stdout,
      /^pricing +\$1\.00 in, \$2\.00 out per 1M tokens; prompts over 100,000 tokens: \$2\.00 in, \$4\.00 out, \$0\.40 cached in$/m,
    );
  });
});
