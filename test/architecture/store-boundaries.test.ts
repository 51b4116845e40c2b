// The boundaries around the store, read from the import graph of src/ (TypeScript's own pre-processor: static imports,
// `import type`, re-exports and dynamic import() alike): no cycle between src's top-level folders (a file at the top,
// such as main.ts or errors.ts, counts as its own); the store speaks no HTTP; the ledger reaches the store only through
// its ledger interface; policy knows no gateway type; the CLI uses only its admin client, config and the shared schemas.
// Each rule is also run on the real graph with one forbidden import added, so a rule that could not fail fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** One import: `from` is a path under src/ (posix); `to` is one too for a module of src/, else the bare specifier. */
interface Edge {
  from: string;
  to: string;
  local: boolean;
  line: number;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function readGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    for (const imported of importedFiles) {
      const line = text.slice(0, imported.pos).split('\n').length;
      const specifier = imported.fileName;
      if (!specifier.startsWith('.')) {
        edges.push({ from, to: specifier, local: false, line });
        continue;
      }
      const to = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from, to, local: true, line });
    }
  }
  return edges;
}

/** The top-level folder of a path under src/, or the file itself for a file at the top. */
function unit(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash);
}

const show = (edge: Edge) => `src/${edge.from}:${edge.line} imports ${edge.local ? `src/${edge.to}` : edge.to}`;

/** Every cycle between top-level units, each as one import per step (Tarjan's strongly connected components). */
function folderCycles(edges: readonly Edge[]): string[] {
  const between = new Map<string, Map<string, Edge>>();
  for (const edge of edges) {
    if (!edge.local || unit(edge.from) === unit(edge.to)) continue;
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

const HTTP_MODULES = new Set(['node:http', 'http', 'node:https', 'https', 'node:http2', 'http2', 'undici', 'hono']);

function storeSpeaksHttp(edges: readonly Edge[]): string[] {
  return edges
    .filter((edge) => unit(edge.from) === 'store' && !edge.local && (HTTP_MODULES.has(edge.to) || /^(hono|@hono)\//.test(edge.to)))
    .map(show);
}

/** The one module of the store the ledger may import. */
const LEDGER_INTERFACE = 'store/ledger-store.ts';

function ledgerBeyondItsInterface(edges: readonly Edge[]): string[] {
  return edges
    .filter((edge) => unit(edge.from) === 'ledger' && edge.local && unit(edge.to) === 'store' && edge.to !== LEDGER_INTERFACE)
    .map(show);
}

function policyOnGateway(edges: readonly Edge[]): string[] {
  return edges.filter((edge) => unit(edge.from) === 'policy' && edge.local && unit(edge.to) === 'gateway').map(show);
}

/** The CLI's own modules (its admin client among them), config and the shared schemas. */
const CLI_MAY_IMPORT = new Set(['cli', 'config', 'schemas']);
/**
 * `sluice start` runs the gateway and the director in the CLI's own process, `sluice demo` a whole Sluice with its simulated
 * provider: the only ways from the CLI into the server, each loaded for its command alone.
 */
const CLI_ENTRIES = new Set(['main.ts', 'demo/demo.ts']);
/** `sluice discover` and `sluice ca init` run the discovery gateway and write its CA, with the process logger. */
const DISCOVER_ENTRIES = new Set(['discovery/discovery.ts', 'discovery/ca.ts', 'observability/logger.ts']);

function cliBeyondItsClient(edges: readonly Edge[]): string[] {
  return edges
    .filter((edge) => unit(edge.from) === 'cli' && edge.local && !CLI_MAY_IMPORT.has(unit(edge.to)))
    .filter((edge) => !(edge.from === 'cli/sluice.ts' && CLI_ENTRIES.has(edge.to)))
    .filter((edge) => !(edge.from === 'cli/discover.ts' && DISCOVER_ENTRIES.has(edge.to)))
    .map(show);
}

const RULES: Array<{ name: string; check: (edges: readonly Edge[]) => string[]; forbidden: Omit<Edge, 'line'> }> = [
  {
    name: 'no import cycle between top-level folders of src/',
    check: folderCycles,
    forbidden: { from: 'store/sql/ledger.ts', to: 'ledger/batch.ts', local: true },
  },
  { name: 'the store imports no HTTP module', check: storeSpeaksHttp, forbidden: { from: 'store/open.ts', to: 'undici', local: false } },
  {
    name: 'the ledger imports nothing of the store but its ledger interface',
    check: ledgerBeyondItsInterface,
    forbidden: { from: 'ledger/sink.ts', to: 'store/director-store.ts', local: true },
  },
  {
    name: 'policy imports nothing of the gateway',
    check: policyOnGateway,
    forbidden: { from: 'policy/budgets.ts', to: 'gateway/routing/model-routes.ts', local: true },
  },
  {
    name: 'the CLI imports only its admin client, config and the shared schemas',
    check: cliBeyondItsClient,
    forbidden: { from: 'cli/commands/audit.ts', to: 'store/director-store.ts', local: true },
  },
];

describe('store boundaries', () => {
  const edges = readGraph();

  test('the graph is read: every top-level folder is there and relative imports resolve to files of src/', () => {
    const units = new Set(edges.map((edge) => unit(edge.from)));
    for (const folder of ['store', 'ledger', 'policy', 'cli', 'gateway', 'director']) assert.ok(units.has(folder), folder);
    const files = new Set(sourceFiles(SRC).map((file) => relative(SRC, file).split(sep).join('/')));
    const unresolved = edges.filter((edge) => edge.local && !files.has(edge.to)).map(show);
    assert.deepEqual(unresolved, []);
    assert.ok(
      edges.some((edge) => unit(edge.from) === 'ledger' && edge.to === LEDGER_INTERFACE),
      'the ledger writes through its interface',
    );
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      assert.deepEqual(rule.check(edges), []);
    });

    test(`${rule.name}: fails once ${rule.forbidden.from} imports ${rule.forbidden.to}`, () => {
      const found = rule.check([...edges, { ...rule.forbidden, line: 1 }]);
      assert.ok(found.length > 0, 'the forbidden import went unnoticed');
      assert.ok(
        found.some((violation) => violation.includes(`src/${rule.forbidden.from}:1`)),
        found.join('\n'),
      );
    });
  }
});
