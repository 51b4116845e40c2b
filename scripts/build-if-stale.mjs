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
      else if ((entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) || entry.name.endsWith('.json')) {
        // tsc copies the data files (src/**/*.json) into dist/ beside the compiled modules.
        const compiled = join(root, 'dist', relative(root, path)).replace(/\.ts$/, '.js');
        if (!existsSync(compiled)) return path;
        const built = statSync(compiled).mtimeMs;
        if (built < statSync(path).mtimeMs || built < config) return path;
      }
    }
  }
  return null;
}

/** The newest modification time under a folder (files only). */
function newest(folder) {
  let latest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * The console (web/) is built into dist/web by Vite: again when a file under web/, or a module of src/schemas/ it
 * imports (the audit log's entity types), is newer than its index.html.
 */
function buildConsoleIfStale() {
  const web = join(root, 'web');
  if (!existsSync(web)) return 0;
  const built = join(root, 'dist', 'web', 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(newest(web), newest(join(root, 'src', 'schemas')))) return 0;
  let vite;
  try {
    vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    process.stderr.write(
      'sluice: the console (dist/web) is not current and Vite is not installed: run "npm install", then "npm run build"\n',
    );
    return 0;
  }
  process.stderr.write('sluice: building the console (dist/web is missing or older than web/)\n');
  return (
    spawnSync(process.execPath, [vite, 'build', '--config', join(web, 'vite.config.mjs')], { stdio: 'inherit', cwd: root }).status ?? 1
  );
}

const stale = staleSource();
if (stale === null) process.exit(buildConsoleIfStale());
else {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    // An install without dev dependencies: nothing to compile with; the packed package ships dist/ already.
    process.stderr.write(
      `sluice: dist/ is not current (${relative(root, stale)}) and TypeScript is not installed: run "npm install" (with dev dependencies), then "npm run build"\n`,
    );
    process.exit(existsSync(join(root, 'dist', 'src', 'cli', 'sluice.js')) ? 0 : 1);
  }
  process.stderr.write(`sluice: compiling (dist/ is missing or older than ${relative(root, stale)})\n`);
  const build = spawnSync(process.execPath, [tsc, '-p', root], { stdio: 'inherit' });
  process.exit(build.status === 0 ? buildConsoleIfStale() : (build.status ?? 1));
}
