// `npm start` compiles only when dist/ is missing or older than src/: the check, run in a tree without TypeScript so
// that it says what it would compile instead of compiling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from '../support/scratch.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/build-if-stale.mjs', import.meta.url));

function check(root: string) {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], { encoding: 'utf8' });
  return { code: run.status, stderr: run.stderr };
}

test('compiles nothing when every source has a newer compiled file, and names the first source that has none or an older one', () => {
  const root = scratchDir('sluice-stale-');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(SCRIPT, join(root, 'scripts', 'build-if-stale.mjs'));
  const write = (path: string, text: string, seconds: number) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
    utimesSync(join(root, path), seconds, seconds);
  };
  write('tsconfig.json', '{}', 1_000);
  write('src/cli/sluice.ts', 'export {};', 2_000);
  write('src/config/load.ts', 'export {};', 2_000);
  write('src/types.d.ts', 'export {};', 9_000);

  assert.deepEqual(check(root).code, 1, 'no dist/ and no TypeScript to build one: the start cannot go on');
  assert.match(check(root).stderr, /dist\/ is not current \(src\/[a-z/]+\.ts\) and TypeScript is not installed: run "npm install"/);

  write('dist/src/cli/sluice.js', '', 3_000);
  write('dist/src/config/load.js', '', 3_000);
  assert.deepEqual(check(root), { code: 0, stderr: '' }, 'current: nothing said, nothing done (a .d.ts has no output)');

  write('src/config/load.ts', 'export const changed = 1;', 4_000);
  const stale = check(root);
  assert.equal(stale.code, 0, 'an older dist/ still starts when there is nothing to compile with');
  assert.match(stale.stderr, /dist\/ is not current \(src\/config\/load\.ts\)/);

  write('src/config/load.ts', 'export {};', 2_000);
  write('tsconfig.json', '{}', 5_000);
  assert.match(check(root).stderr, /dist\/ is not current/, 'a changed tsconfig.json makes every output old');
});
