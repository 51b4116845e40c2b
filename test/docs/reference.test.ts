// The reference pages cannot drift from the code they describe: every director API route is documented with its
// methods and every path the docs name is a route; every metric Sluice defines is in docs/observability.md (or, for
// the compliance and discovery ones, their own page); every command `sluice --help` lists is in docs/cli.md.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTE_ROLES } from '../../src/director/route-roles.js';
import { runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const DOC_PAGES = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);

/** The pages that document the director API: its own and the ones its endpoint table sends the reader to. */
const API_PAGES = ['docs/director-api.md', 'docs/analytics.md', 'docs/reconciliation.md', 'docs/identity.md', 'docs/compliance.md'];

/** Paths the admin listener serves outside the route table (no token, no role). */
const UNROLED = /^\/api\/(openapi\.json|docs(\/.*)?)$/;

/** `/api/...` paths as a page writes them, each with the line it is on; `{x}` is a path parameter, `...` an elision. */
function apiPaths(markdown: string): Array<{ path: string; line: string }> {
  const found: Array<{ path: string; line: string }> = [];
  for (const line of markdown.split('\n')) {
    for (const match of line.matchAll(/\/api\/[A-Za-z0-9_{}%./-]*/g)) {
      const path = match[0].replace(/\.$/, '');
      if (path === '/api/' || path.endsWith('..')) continue;
      found.push({ path, line });
    }
  }
  return found;
}

/** A route's path with every parameter as `{}`, the form both sides are compared in. */
const normalized = (path: string): string => path.replace(/\{[^}]*\}/g, '{}');

describe('docs/director-api.md and the pages it links cover the director API', () => {
  const routes = Object.keys(ROUTE_ROLES).map((operation) => {
    const [method, path] = operation.split(' ') as [string, string];
    return { method, path: normalized(path) };
  });
  const documented = API_PAGES.flatMap((page) => apiPaths(read(page)).map((found) => ({ ...found, page })));

  test('every route is documented, on a line that names its method', () => {
    const missing: string[] = [];
    for (const { method, path } of routes) {
      const lines = documented.filter((found) => normalized(found.path) === path);
      if (!lines.some((found) => new RegExp(`\\b${method}\\b`).test(found.line)))
        missing.push(`${method} ${path}${lines.length === 0 ? '' : ` (documented, not with ${method})`}`);
    }
    assert.deepEqual(missing, [], `not in ${API_PAGES.join(', ')}`);
  });

  test('every /api/ path the docs and the README name is a route', () => {
    const patterns = [...new Set(routes.map((route) => route.path))].map(
      (path) => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\}/g, '[^/]+')}$`),
    );
    const unknown: string[] = [];
    for (const page of [...DOC_PAGES, 'README.md']) {
      for (const { path } of apiPaths(read(page))) {
        if (UNROLED.test(path) || patterns.some((pattern) => pattern.test(path))) continue;
        unknown.push(`${page}: ${path}`);
      }
    }
    assert.deepEqual(unknown, []);
  });
});

describe('docs/observability.md names every metric', () => {
  // Metric names as Sluice's sources declare them: `name: '...'` for prom-client and Sluice's series classes, and the
  // ledger's gauge helper.
  function declaredMetrics(dir: string): string[] {
    const names: string[] = [];
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      for (const match of text.matchAll(/(?:name:|gauge\()\s*'((?:sluice|gen_ai)_[a-z0-9_]+)'/g)) names.push(match[1]!);
    }
    return [...new Set(names)].sort();
  }

  test('each in the table of docs/observability.md, or on its own feature page', () => {
    const metrics = declaredMetrics('src');
    assert.ok(metrics.includes('sluice_ledger_behind') && metrics.includes('gen_ai_client_token_usage'), 'the scan finds them');
    const page = (metric: string): string =>
      metric.startsWith('sluice_compliance_')
        ? 'docs/compliance.md'
        : metric.startsWith('sluice_discovery_')
          ? 'docs/discovery.md'
          : 'docs/observability.md';
    const missing = metrics
      .filter((metric) => !new RegExp('`' + metric + '[`{]').test(read(page(metric))))
      .map((metric) => `${page(metric)}: ${metric}`);
    assert.deepEqual(missing, []);
  });
});

describe('docs/cli.md lists every command `sluice --help` lists', () => {
  test('each command of the help is in a table of docs/cli.md', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*)(?: [a-z]+)? {2,}/gm)].map((match) => match[1]!);
    assert.ok(commands.includes('consumers') && commands.includes('start'), 'the help lists commands');
    const page = read('docs/cli.md');
    const missing = commands.filter((command) => !new RegExp(`\`sluice ${command}\\b|, \`${command}\``).test(page));
    assert.deepEqual(missing, []);
  });
});
