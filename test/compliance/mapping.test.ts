// The check-to-control mapping is data held to the vendored NIST catalog: every control and objective it names exists
// there, every check it names exists and every check is mapped; UUIDs are RFC 9562 v5 (name-based) and v4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CatalogData } from '../../src/compliance/catalog-data.js';
import { MODERATE_BASELINE } from '../../src/compliance/catalog.js';
import { CHECKS } from '../../src/compliance/checks/index.js';
import { CLAIM_CONDITIONS, CONTROL_MAPPING } from '../../src/compliance/control-mapping.js';
import { nameUuid, newUuid } from '../../src/compliance/uuid.js';

test("the vendored catalog is NIST's SP 800-53 rev5 MODERATE baseline, with its assessment objectives", () => {
  // The data file as the build ships it (tsc copies it beside the compiled modules), and the catalog read from it.
  const vendored = JSON.parse(
    readFileSync(new URL('../../src/compliance/baseline/sp800-53-rev5-moderate.json', import.meta.url), 'utf8'),
  ) as CatalogData;
  assert.match(vendored.source.title, /800-53 Revision 5.*MODERATE/);
  assert.equal(MODERATE_BASELINE.source.title, vendored.source.title);
  assert.equal(vendored.controls.length, 287);
  assert.equal(
    vendored.controls.reduce((count, control) => count + control.objectives.length, 0),
    1795,
  );
  for (const control of vendored.controls) {
    assert.deepEqual(MODERATE_BASELINE.control(control.id), control);
    for (const objective of control.objectives) assert.equal(MODERATE_BASELINE.objective(objective.id).control.id, control.id);
  }
  assert.equal(MODERATE_BASELINE.control('au-9').title, 'Protection of Audit Information');
  assert.match(MODERATE_BASELINE.objective('au-9_obj.a').objective.prose, /protected from unauthorized access, modification, and deletion/);
});

test('every control and objective the mapping names is in the catalog, under that control', () => {
  for (const mapping of CONTROL_MAPPING) {
    assert.doesNotThrow(() => MODERATE_BASELINE.control(mapping.control), mapping.control);
    assert.ok(mapping.claimedWhen in CLAIM_CONDITIONS);
    for (const [check, objectives] of Object.entries(mapping.checks)) {
      assert.ok(objectives.length > 0, `${mapping.control}: ${check} assesses some objective`);
      for (const objective of objectives) assert.equal(MODERATE_BASELINE.objective(objective).control.id, mapping.control, objective);
    }
  }
});

test('every check is mapped to some objective, and the mapping names only checks that exist', () => {
  const mapped = new Set(CONTROL_MAPPING.flatMap((mapping) => Object.keys(mapping.checks)));
  const ids = CHECKS.map((check) => check.id);
  assert.equal(new Set(ids).size, ids.length, 'check ids are unique');
  assert.deepEqual(
    [...mapped].filter((id) => !ids.includes(id)),
    [],
  );
  assert.deepEqual(
    ids.filter((id) => !mapped.has(id)),
    [],
  );
});

test('name-based UUIDs are RFC 9562 version 5, random ones version 4', () => {
  // RFC 9562's example: the DNS namespace and www.example.com.
  assert.equal(nameUuid('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(nameUuid('component:sluice'), nameUuid('component:sluice'));
  assert.notEqual(nameUuid('poam-item:ac-3_obj:1'), nameUuid('poam-item:ac-3_obj:2'));
  assert.match(newUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
