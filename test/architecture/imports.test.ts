// The architecture, held by a test: the import graph of src/ (every import, export-from, dynamic import and type-only
// import, read with the TypeScript compiler's own pre-processor) must keep the layers apart.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One import: `from` and `to` are paths under src/ ('gateway/handlers/chat.ts'), or `to` is a package ('node:http'). */
export interface Edge {
  from: string;
  to: string;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A relative specifier ('../wire/json.js') resolved to its source file under src/; anything else as it is written. */
function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier));
  return joined.endsWith('.js') ? `${joined.slice(0, -3)}.ts` : joined;
}

/** The edges of files given as (path under src/, text). */
export function importEdges(files: ReadonlyArray<{ path: string; text: string }>): Edge[] {
  const edges: Edge[] = [];
  for (const file of files) {
    for (const imported of ts.preProcessFile(file.text, true, true).importedFiles) {
      edges.push({ from: file.path, to: resolve(file.path, imported.fileName) });
    }
  }
  return edges;
}

function srcEdges(): Edge[] {
  const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path).split(sep).join('/'), text: readFileSync(path, 'utf8') }));
  return importEdges(files);
}

function under(path: string, ...folders: string[]): boolean {
  return folders.some((folder) => path.startsWith(`${folder}/`));
}

const HTTP = /^(node:)?https?$|^undici(\/|$)|^hono(\/|$)|^@hono\//;

/** The top-level unit of a path under src/: its first folder, or the file itself for files directly in src/. */
function unit(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash);
}

interface Rule {
  name: string;
  forbids(edge: Edge): boolean;
  /**
   * Edges that break the rule today and are known, each named exactly: they go with the store split (hx/arch-store), and
   * the entry goes with them. A listed edge that no longer exists fails the test too, so the list only shrinks.
   */
  known: readonly string[];
}

export const RULES: readonly Rule[] = [
  {
    name: 'providers import neither the gateway nor policy',
    forbids: ({ from, to }) => under(from, 'providers') && under(to, 'gateway', 'policy'),
    known: [],
  },
  {
    name: 'front doors import no provider',
    forbids: ({ from, to }) => under(from, 'gateway/frontdoors') && under(to, 'providers'),
    known: [],
  },
  {
    name: 'the gateway knows providers only by their contract, their registry and their credentials',
    forbids: ({ from, to }) =>
      under(from, 'gateway') &&
      under(to, 'providers') &&
      !['providers/provider.ts', 'providers/registry.ts', 'providers/shared/secret-redactor.ts'].includes(to),
    known: [],
  },
  {
    name: 'nothing on the request path imports the store',
    forbids: ({ from, to }) => under(from, 'gateway', 'providers', 'policy', 'metering', 'counters') && under(to, 'store'),
    known: [],
  },
  {
    name: 'the store imports no HTTP',
    forbids: ({ from, to }) => under(from, 'store') && HTTP.test(to),
    known: [],
  },
  {
    name: 'the CLI imports only itself, its API client, config and the shared schemas',
    forbids: ({ from, to }) =>
      // src/schemas/ holds what the CLI shares with the director: the apply document's schema, the audit entity types.
      under(from, 'cli') &&
      to.endsWith('.ts') &&
      !under(to, 'cli', 'config', 'schemas') &&
      // `sluice start` runs the gateway itself, loaded only for that command.
      to !== 'main.ts' &&
      // `sluice demo` runs a whole Sluice with its simulated provider, likewise loaded only for that command.
      to !== 'demo/demo.ts' &&
      // `sluice discover` and `sluice ca init` run the discovery gateway and write its CA, with the process logger.
      !(from === 'cli/discover.ts' && (under(to, 'discovery') || to === 'observability/logger.ts')),
    known: [],
  },
];

/** The edges breaking `rule`, as 'from -> to'. */
export function breaches(rule: Rule, edges: readonly Edge[]): string[] {
  return [...new Set(edges.filter((edge) => rule.forbids(edge)).map((edge) => `${edge.from} -> ${edge.to}`))].sort();
}

/** Import cycles between top-level units of src/, each as the units around it, and the edges that close it. */
export function unitCycles(edges: readonly Edge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!to.endsWith('.ts')) continue;
    const a = unit(from);
    const b = unit(to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  // Tarjan's strongly connected components: every component of more than one unit holds a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** The file edges between units of one component, 'from -> to', to say where a cycle is closed. */
function cycleEdges(component: readonly string[], edges: readonly Edge[]): string[] {
  const members = new Set(component);
  return [
    ...new Set(
      edges
        .filter(({ from, to }) => to.endsWith('.ts') && unit(from) !== unit(to) && members.has(unit(from)) && members.has(unit(to)))
        .map(({ from, to }) => `${from} -> ${to}`),
    ),
  ].sort();
}

/**
 * Edges between top-level units that close a cycle today, each named exactly; a listed edge that no longer exists fails
 * the test, so the list only shrinks.
 */
const KNOWN_CYCLE_EDGES: readonly string[] = [];

describe('the import graph of src/', () => {
  const edges = srcEdges();

  test('is read: every file, with its imports', () => {
    assert.ok(edges.some((edge) => edge.from === 'gateway/handlers/chat.ts' && edge.to === 'gateway/pipeline/admit.ts'));
    assert.ok(edges.some((edge) => edge.from === 'store/sqlite-driver.ts' && edge.to === 'better-sqlite3'));
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      const found = breaches(rule, edges);
      assert.deepEqual(
        found.filter((edge) => !rule.known.includes(edge)),
        [],
        `forbidden imports: ${rule.name}`,
      );
      assert.deepEqual(
        rule.known.filter((edge) => !found.includes(edge)),
        [],
        'known exceptions that no longer exist: drop them',
      );
    });
  }

  test('no import cycle between the top-level folders of src/', () => {
    const named = (edge: Edge) => `${edge.from} -> ${edge.to}`;
    const remaining = edges.filter((edge) => !KNOWN_CYCLE_EDGES.includes(named(edge)));
    const cycles = unitCycles(remaining).map((component) => ({ units: component, edges: cycleEdges(component, remaining) }));
    assert.deepEqual(cycles, [], 'import cycles between top-level folders');
    const present = new Set(edges.map(named));
    assert.deepEqual(
      KNOWN_CYCLE_EDGES.filter((edge) => !present.has(edge)),
      [],
      'known exceptions that no longer exist: drop them',
    );
  });
});

describe('the rules themselves', () => {
  // A forbidden import added to a copy of a real file must be caught: the rules cannot pass by reading nothing.
  const cases: Array<{ name: string; file: string; text: string; rule: string }> = [
    {
      name: 'a provider importing the gateway',
      file: 'providers/openai/index.ts',
      text: "import '../../gateway/server.js';",
      rule: RULES[0]!.name,
    },
    {
      name: 'a provider importing policy',
      file: 'providers/openai/request.ts',
      text: "import type { Consumer } from '../../policy/consumers.js';",
      rule: RULES[0]!.name,
    },
    {
      name: 'a front door importing a provider',
      file: 'gateway/frontdoors/openai-chat.ts',
      text: "export { openaiUsage } from '../../providers/openai/response.js';",
      rule: RULES[1]!.name,
    },
    {
      name: 'a handler importing the wire of a provider',
      file: 'gateway/handlers/chat.ts',
      text: "import { openaiUsage } from '../../providers/openai/response.js';",
      rule: RULES[2]!.name,
    },
    {
      name: 'the gateway importing the store',
      file: 'gateway/handlers/chat.ts',
      text: "const store = await import('../../store/sqlite-store.js');",
      rule: RULES[3]!.name,
    },
    { name: 'the store importing undici', file: 'store/sqlite-store.ts', text: "import { request } from 'undici';", rule: RULES[4]!.name },
    {
      name: 'the store importing node:http',
      file: 'store/postgres-store.ts',
      text: "import type { Server } from 'node:http';",
      rule: RULES[4]!.name,
    },
    {
      name: 'the CLI importing the gateway',
      file: 'cli/commands/keys.ts',
      text: "import { GatewayServer } from '../../gateway/server.js';",
      rule: RULES[5]!.name,
    },
  ];
  for (const entry of cases) {
    test(`catch ${entry.name}`, () => {
      const rule = RULES.find((candidate) => candidate.name === entry.rule)!;
      assert.equal(breaches(rule, importEdges([{ path: entry.file, text: entry.text }])).length, 1);
    });
  }

  test('catch a cycle between two folders', () => {
    const edges = importEdges([
      { path: 'policy/budgets.ts', text: "import type { Target } from '../gateway/routing/model-routes.js';" },
      { path: 'gateway/snapshot.ts', text: "import { BudgetBook } from '../policy/budgets.js';" },
    ]);
    assert.deepEqual(unitCycles(edges), [['gateway', 'policy']]);
  });
});
