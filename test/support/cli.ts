// Runs the real `sluice` command as a user would: a child process with a clean environment, stdin closed, output captured.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './scratch.js';

const SLUICE = fileURLToPath(new URL('../../src/cli/sluice.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to a bare environment (PATH only), so nothing from the test runner's shell leaks in. */
  env?: Record<string, string>;
  /** Where `./data/admin.token` is looked for; a fresh empty folder by default. */
  cwd?: string;
}

/** A fresh empty folder, removed when the test file ends (support/scratch.ts). */
export function emptyDir(): string {
  return scratchDir('sluice-cli-');
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [SLUICE, ...args], {
    env: { PATH: process.env.PATH ?? '', SLUICE_WORKERS: '1', ...options.env },
    cwd: options.cwd ?? emptyDir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A runner bound to one director: every call gets its URL and token through the environment, as an admin sets them. */
export function cliFor(adminURL: string, token: string) {
  return (args: string[], options: CliOptions = {}) =>
    runCli(args, { ...options, env: { SLUICE_ADMIN_URL: adminURL, SLUICE_ADMIN_TOKEN: token, ...options.env } });
}

/** The table row whose first column is `first`, split into its cells. */
export function row(table: string, first: string): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split(/ {2,}/))
    .find((cells) => cells[0] === first);
}
