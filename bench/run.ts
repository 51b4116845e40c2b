// npm run bench [-- gateway|analytics|discovery|cache|streams|faults|essentials]: runs one benchmark (default gateway) in a process
// of its own, so each keeps its own signal handling and exit code: `npm run bench`, `npm run bench -- analytics`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS: Record<string, string> = {
  gateway: 'gateway.js',
  analytics: 'analytics.js',
  discovery: 'discovery.js',
  cache: 'cache.js',
  streams: 'streams.js',
  faults: 'faults.js',
  essentials: 'essentials.js',
};

const name = process.argv[2] ?? 'gateway';
const script = BENCHMARKS[name];
if (script === undefined) {
  console.error(`bench: unknown benchmark "${name}"; one of ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const child = fork(fileURLToPath(new URL(script, import.meta.url)), process.argv.slice(3), { stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to this process alone is passed on.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
