// The architecture, held by a test: the import graph of src/ (every import, export-from, dynamic import and type-only
// import, read with the TypeScript compiler's own pre-processor) must keep the layers apart. No cycle between src's
// top-level folders (a file at the top, such as main.ts or errors.ts, counts as its own); providers know neither the
// gateway nor policy; front doors know no provider, the rest of the gateway providers only by their contract; nothing on
// the request path reads the store; the store speaks no HTTP; the ledger reaches the store only through its ledger
// interface; policy knows no gateway type; the CLI uses only its admin client, config and the shared schemas.
// Every rule is also run with one forbidden import added, so a rule that could not fail fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** One import: `from` is a path under src/ ('gateway/handlers/chat.ts'); `to` is one too, or a package ('node:http'). */
export interface Edge {
  from: string;
  to: string;
  line: number;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The edges of files given as (path under src/, text); a relative specifier resolved to its source file under src/. */
export function importEdges(files: ReadonlyArray<{ path: string; text: string }>): Edge[] {
  const edges: Edge[] = [];
  for (const { path, text } of files) {
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      const specifier = imported.fileName;
      const line = text.slice(0, imported.pos).split('\n').length;
      const to = specifier.startsWith('.')
        ? posix.normalize(posix.join(posix.dirname(path), specifier)).replace(/\.js$/, '.ts')
        : specifier;
      edges.push({ from: path, to, line });
    }
  }
  return edges;
}

const srcPath = (file: string) => relative(SRC, file).split(sep).join('/');

function srcEdges(): Edge[] {
  return importEdges(sourceFiles(SRC).map((file) => ({ path: srcPath(file), text: readFileSync(file, 'utf8') })));
}

/** A module of src/ (a path ending in .ts), not a package. */
const local = (edge: Edge) => edge.to.endsWith('.ts');

function under(path: string, ...folders: string[]): boolean {
  return folders.some((folder) => path.startsWith(`${folder}/`));
}

/** The top-level unit of a path under src/: its first folder, or the file itself for files directly in src/. */
function unit(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash);
}

const show = (edge: Edge) => `src/${edge.from}:${edge.line} imports ${local(edge) ? `src/${edge.to}` : edge.to}`;

const HTTP = /^(node:)?(https?|http2)$|^undici(\/|$)|^hono(\/|$)|^@hono\//;

/** The one module of the store the ledger may import. */
const LEDGER_INTERFACE = 'store/ledger-store.ts';

/** The CLI's own modules (its admin client among them), config and the shared schemas (src/schemas/). */
const CLI_MAY_IMPORT = ['cli', 'config', 'schemas'];
/**
 * `sluice start` runs the gateway and the director in the CLI's own process, `sluice demo` a whole Sluice with its
 * simulated provider: the only ways from the CLI into the server, each loaded for its command alone.
 */
const CLI_ENTRIES = new Set(['main.ts', 'demo/demo.ts']);
/** `sluice discover` and `sluice ca init` run the discovery gateway and write its CA, with the process logger. */
const DISCOVER_ENTRIES = new Set(['discovery/discovery.ts', 'discovery/ca.ts', 'observability/logger.ts']);

interface Rule {
  name: string;
  /** The violations in `edges`, one line each. */
  check(edges: readonly Edge[]): string[];
  /** Imports the rule must catch, added to the real graph by the self-check below. */
  forbidden: Array<Omit<Edge, 'line'>>;
}

/** A rule that judges each import alone. */
function perImport(name: string, forbids: (edge: Edge) => boolean, forbidden: Rule['forbidden']): Rule {
  return { name, check: (edges) => [...new Set(edges.filter(forbids).map(show))].sort(), forbidden };
}

export const RULES: readonly Rule[] = [
  {
    name: 'no import cycle between the top-level folders of src/',
    check: unitCycles,
    forbidden: [
      { from: 'store/sql/ledger.ts', to: 'ledger/batch.ts' },
      { from: 'config/schema.ts', to: 'gateway/server.ts' },
    ],
  },
  perImport(
    'providers import neither the gateway nor policy',
    ({ from, to }) => under(from, 'providers') && under(to, 'gateway', 'policy'),
    [
      { from: 'providers/openai/index.ts', to: 'gateway/server.ts' },
      { from: 'providers/openai/request.ts', to: 'policy/consumers.ts' },
    ],
  ),
  perImport('front doors import no provider', ({ from, to }) => under(from, 'gateway/frontdoors') && under(to, 'providers'), [
    { from: 'gateway/frontdoors/openai-chat.ts', to: 'providers/openai/response.ts' },
  ]),
  perImport(
    'the gateway knows providers only by their contract, their registry and their credentials',
    ({ from, to }) =>
      under(from, 'gateway') &&
      under(to, 'providers') &&
      !['providers/provider.ts', 'providers/registry.ts', 'providers/shared/secret-redactor.ts'].includes(to),
    [{ from: 'gateway/handlers/chat.ts', to: 'providers/openai/response.ts' }],
  ),
  perImport(
    'nothing on the request path imports the store',
    ({ from, to }) => under(from, 'gateway', 'providers', 'policy', 'metering', 'counters') && under(to, 'store'),
    [{ from: 'gateway/handlers/chat.ts', to: 'store/sqlite-store.ts' }],
  ),
  perImport('the store imports no HTTP module', ({ from, to }) => under(from, 'store') && HTTP.test(to), [
    { from: 'store/open.ts', to: 'undici' },
    { from: 'store/postgres-store.ts', to: 'node:http' },
  ]),
  perImport(
    'the ledger imports nothing of the store but its ledger interface',
    ({ from, to }) => under(from, 'ledger') && under(to, 'store') && to !== LEDGER_INTERFACE,
    [{ from: 'ledger/sink.ts', to: 'store/director-store.ts' }],
  ),
  perImport('policy imports nothing of the gateway', ({ from, to }) => under(from, 'policy') && under(to, 'gateway'), [
    { from: 'policy/budgets.ts', to: 'gateway/routing/model-routes.ts' },
  ]),
  perImport(
    'the CLI imports only its admin client, config and the shared schemas',
    (edge) =>
      under(edge.from, 'cli') &&
      local(edge) &&
      !under(edge.to, ...CLI_MAY_IMPORT) &&
      !(edge.from === 'cli/sluice.ts' && CLI_ENTRIES.has(edge.to)) &&
      !(edge.from === 'cli/discover.ts' && DISCOVER_ENTRIES.has(edge.to)),
    [
      { from: 'cli/commands/keys.ts', to: 'gateway/server.ts' },
      { from: 'cli/commands/audit.ts', to: 'store/director-store.ts' },
      { from: 'cli/commands/keys.ts', to: 'main.ts' },
    ],
  ),
];

/** Every cycle between top-level units, one per strongly connected component (Tarjan's), named by the imports closing it. */
export function unitCycles(edges: readonly Edge[]): string[] {
  const between = new Map<string, Map<string, Edge>>();
  for (const edge of edges) {
    if (!local(edge) || unit(edge.from) === unit(edge.to)) continue;
    let targets = between.get(unit(edge.from));
    if (targets === undefined) between.set(unit(edge.from), (targets = new Map()));
    if (!targets.has(unit(edge.to))) targets.set(unit(edge.to), edge);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of between.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component);
    }
  };
  for (const node of [...between.keys()].sort()) if (!index.has(node)) visit(node);
  // One cycle per component, found by a walk inside it, named by the imports that make it.
  return components.map((component) => {
    const members = new Set(component);
    const start = [...members].sort()[0]!;
    const path: Edge[] = [];
    const seen = new Set<string>();
    const walk = (node: string): boolean => {
      seen.add(node);
      for (const [next, edge] of between.get(node) ?? []) {
        if (!members.has(next)) continue;
        path.push(edge);
        if (next === start || (!seen.has(next) && walk(next))) return true;
        path.pop();
      }
      return false;
    };
    walk(start);
    return `${[start, ...path.map((edge) => unit(edge.to))].join(' -> ')}: ${path.map(show).join('; ')}`;
  });
}

describe('the import graph of src/', () => {
  const edges = srcEdges();

  test('is read: every top-level folder, static, type-only and dynamic imports, relative ones resolved to files of src/', () => {
    const units = new Set(edges.map((edge) => unit(edge.from)));
    for (const folder of ['store', 'ledger', 'policy', 'cli', 'gateway', 'director', 'providers']) assert.ok(units.has(folder), folder);
    const files = new Set(sourceFiles(SRC).map(srcPath));
    assert.deepEqual(edges.filter((edge) => local(edge) && !files.has(edge.to)).map(show), []);
    assert.ok(edges.some((edge) => edge.from === 'gateway/handlers/chat.ts' && edge.to === 'gateway/pipeline/admit.ts'));
    assert.ok(edges.some((edge) => edge.from === 'store/sqlite-driver.ts' && edge.to === 'better-sqlite3'));
    assert.ok(
      edges.some((edge) => under(edge.from, 'ledger') && edge.to === LEDGER_INTERFACE),
      'the ledger writes through its interface',
    );
    const [typeOnly, dynamic] = importEdges([
      { path: 'a/x.ts', text: "import type { T } from '../b/y.js';\nconst m = await import('../c/z.js');" },
    ]);
    assert.deepEqual(
      [typeOnly, dynamic],
      [
        { from: 'a/x.ts', to: 'b/y.ts', line: 1 },
        { from: 'a/x.ts', to: 'c/z.ts', line: 2 },
      ],
    );
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      assert.deepEqual(rule.check(edges), []);
    });

    for (const forbidden of rule.forbidden) {
      test(`${rule.name}: fails once src/${forbidden.from} imports ${forbidden.to}`, () => {
        const found = rule.check([...edges, { ...forbidden, line: 1 }]);
        assert.ok(
          found.some((violation) => violation.includes(`src/${forbidden.from}:1`)),
          `the forbidden import went unnoticed: ${found.join('\n')}`,
        );
      });
    }
  }
});
