// Starts the real `sluice` command as a user does (a child process in a folder of its own) and waits until its admin
// listener answers /healthz. Ports are chosen free beforehand and passed the way a user passes them, so the test
// does not depend on the wording of the log.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SLUICE = fileURLToPath(new URL('../../src/cli/sluice.js', import.meta.url));

export interface SluiceProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Stops it with SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

// The ports `listen(0)` picks are the OS's ephemeral range, the same range every outgoing connection's local port
// comes from: one picked there and released could be some test's next connection's before sluice bound it (a CI run's
// EADDRINUSE). Below that range only another test's pick can collide, which a random draw makes rare.
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
})();
const PICK_LOW = 10_000;
const picked = new Set<number>();

/** A port nothing listens on right now, outside the range the OS hands out to connections and never handed out twice here. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PICK_LOW + Math.floor(Math.random() * (EPHEMERAL_LOW - PICK_LOW));
    if (picked.has(port)) continue;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    picked.add(port);
    return port;
  }
}

/**
 * Runs `sluice ...args` in `cwd` with a bare environment (PATH and `env` only) and resolves once `adminURL`/healthz
 * answers 200; rejects with its output if it exits first or `ms` pass.
 */
export async function startSluiceProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string>; adminURL: string; ms?: number },
): Promise<SluiceProcess> {
  const child = spawn(process.execPath, [SLUICE, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', SLUICE_WORKERS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const stop = async () => {
    if (exitCode === undefined) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + (options.ms ?? 30_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`sluice exited with ${exitCode} before listening; output:\n${output}`);
    try {
      const health = await fetch(`${options.adminURL}/healthz`);
      await health.arrayBuffer();
      if (health.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`sluice did not answer /healthz; output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output, stop };
}

/**
 * One chat call to a gateway on loopback, as the cluster tests send them: its status, 0 when the connection dropped,
 * -1 when `deadlineMs` passed first. Never throws, so a test can count what became of every call.
 */
export async function chatStatus(port: number, key: string, options: { requestId?: string; deadlineMs?: number } = {}): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }),
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      ...(options.deadlineMs === undefined ? {} : { signal: AbortSignal.timeout(options.deadlineMs) }),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? -1 : 0;
  }
}

/**
 * sluice.yaml's catalog for a test against one mock OpenAI-compatible provider: the provider `openai` at `mockUrl`, the
 * model gpt-4o-mini on it, and the consumer checkout-service (team payments) holding `key`.
 */
export function oneModelYaml(mockUrl: string, key: string): string {
  return `providers:
  openai: { type: openai, baseUrl: ${mockUrl}/v1, apiKey: upstream-not-real }
models:
  - name: gpt-4o-mini
    targets: [{ provider: openai, model: gpt-4o-mini }]
consumers:
  - { name: checkout-service, team: payments, owner: alice@example.com, keys: ["${key}"] }`;
}
