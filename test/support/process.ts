// The real `sluice` entry point as a child process: a bare environment, output captured, waiting on what it logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SLUICE_ENTRY = fileURLToPath(new URL('../../src/cli/sluice.js', import.meta.url));

export interface SluiceProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output: () => string;
  exited: Promise<number | null>;
}

/** `env` is added to PATH alone, so nothing from the test runner's shell (an OPENAI_API_KEY, a SLUICE_PORT) leaks in. */
export function runSluice(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): SluiceProcess {
  const child = spawn(process.execPath, [SLUICE_ENTRY, ...args], {
    env: { PATH: process.env.PATH, SLUICE_WORKERS: '1', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor(output: () => string, pattern: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = pattern.exec(output());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The ports of the "sluice is listening" line. */
export async function listeningPorts(sluice: SluiceProcess): Promise<{ gateway: number; admin: number }> {
  const match = await waitFor(sluice.output, /"gateway":\{"port":(\d+),"host":"[^"]*"\},"admin":\{"port":(\d+)/);
  return { gateway: Number(match[1]), admin: Number(match[2]) };
}

/** SIGTERM, and the exit code it leads to. */
export async function stopSluice(sluice: SluiceProcess): Promise<number | null> {
  sluice.child.kill('SIGTERM');
  return sluice.exited;
}
