// Vendors what Sluice's compliance documents need from NIST's SP 800-53 rev5 MODERATE baseline (resolved profile catalog,
// OSCAL JSON, public domain): each control's id, label and title, and its SP 800-53A assessment objectives (id, label,
// prose). Writes src/compliance/baseline/sp800-53-rev5-moderate.json, data that src/compliance/catalog.ts reads at start
// (as JSON rather than a module: V8 keeps a module's source text for the life of the process, and this one's object literal
// cost some 1 MB of heap more than the parsed data alone); rerun after replacing the catalog with a newer one:
//   node scripts/compliance-catalog.mjs [path/to/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json]
// Plain JavaScript: it runs on a checkout, before anything is compiled.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const source =
  process.argv[2] ?? join(root, '..', 'shared', 'oscal', 'NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json');
const target = join(root, 'src', 'compliance', 'baseline', 'sp800-53-rev5-moderate.json');

const { catalog } = JSON.parse(readFileSync(source, 'utf8'));

function label(item) {
  // The plain label ("AC-3"), not the zero-padded one ("AC-03") nor SP 800-53A's.
  const plain = (item.props ?? []).find((prop) => prop.name === 'label' && prop.class === undefined);
  return plain?.value ?? item.id.toUpperCase();
}

function objectiveLabel(part) {
  return (part.props ?? []).find((prop) => prop.name === 'label')?.value ?? part.id;
}

/** Every assessment objective at any depth, in document order. */
function objectives(parts, out = []) {
  for (const part of parts ?? []) {
    if (part.name !== 'assessment-objective') continue;
    out.push({ id: part.id, label: objectiveLabel(part), prose: (part.prose ?? '').trim() });
    objectives(part.parts, out);
  }
  return out;
}

const controls = [];
function walk(list) {
  for (const control of list ?? []) {
    const objective = (control.parts ?? []).filter((part) => part.name === 'assessment-objective');
    controls.push({ id: control.id, label: label(control), title: control.title, objectives: objectives(objective) });
    walk(control.controls);
  }
}
for (const group of catalog.groups) walk(group.controls);

const data = {
  source: {
    title: catalog.metadata.title,
    version: catalog.metadata.version,
    lastModified: catalog.metadata['last-modified'],
    uuid: catalog.uuid,
    file: 'NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json',
    href: 'https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json',
  },
  controls,
};

// One control per line: compact to load, and a new catalog's diff reads control by control.
writeFileSync(
  target,
  `{"source":${JSON.stringify(data.source)},"controls":[\n${controls.map((control) => JSON.stringify(control)).join(',\n')}\n]}\n`,
);
process.stdout.write(`${target}: ${controls.length} controls, ${controls.reduce((n, c) => n + c.objectives.length, 0)} objectives\n`);
