// Compiles the TypeScript when dist/ is missing or older than src/, and only then: `npm install` (prepare) and
// `npm start` (prestart) run it, so a start takes no compile unless the sources changed. Plain JavaScript, as it runs
// before anything is compiled; a check of file times, not `tsc` itself, which takes seconds even with nothing to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The first source whose compiled file is missing or older than it, or null when dist/ is current. */
function staleSource() {
  const config = statSync(join(root, 'tsconfig.json')).mtimeMs;
  const pending = [join(root, 'src')];
  while (pending.length > 0) {
    const folder = pending.pop();
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const compiled = join(root, 'dist', relative(root, path)).replace(/\.ts$/, '.js');
        if (!existsSync(compiled)) return path;
        const built = statSync(compiled).mtimeMs;
        if (built < statSync(path).mtimeMs || built < config) return path;
      }
    }
  }
  return null;
}

const stale = staleSource();
if (stale !== null) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    // An install without dev dependencies: nothing to compile with; the packed package ships dist/ already.
    process.stderr.write(`sluice: dist/ is not current (${relative(root, stale)}) and TypeScript is not installed: run "npm install" (with dev dependencies), then "npm run build"\n`);
    process.exit(existsSync(join(root, 'dist', 'src', 'cli', 'sluice.js')) ? 0 : 1);
  }
  process.stderr.write(`sluice: compiling (dist/ is missing or older than ${relative(root, stale)})\n`);
  const build = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
  process.exit(build.status ?? 1);
}
