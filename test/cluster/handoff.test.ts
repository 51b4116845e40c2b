// The primary of `sluice start --workers N` hands each connection of the gateway's and the admin API's listeners to a
// worker (src/cluster/balancer.ts). A worker that dies while connections are on their way to it must not leave their
// clients waiting on a connection nobody serves: node:cluster's channel passes one handle at a time, holding the rest
// until the worker acknowledges the first, and a worker that dies first acknowledges none (node:cluster's own sharing,
// which the admin listener used, left that first one open). Reproduced deterministically: a worker stopped (SIGSTOP),
// connections made while it cannot take them, then the worker killed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { freePort, oneModelYaml } from '../support/sluice-process.js';
import { childrenOf } from '../support/processes.js';
import { scratchDir } from '../support/scratch.js';

type Outcome = 'answered' | 'closed' | 'hung';

/** One health check on a connection of its own: answered, closed without an answer, or neither within `deadlineMs`. */
function probe(port: number, deadlineMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('hung'), deadlineMs);
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 200')) done('answered');
    });
    socket.on('error', () => done('closed'));
    socket.on('close', () => done(received.startsWith('HTTP/1.1 200') ? 'answered' : 'closed'));
  });
}

describe('connections on their way to a worker that dies', () => {
  let sluice: SluiceProcess;
  let gatewayPort: number;
  let adminPort: number;

  before(async () => {
    const dir = scratchDir('sluice-handoff-');
    gatewayPort = await freePort();
    adminPort = await freePort();
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-handoff-test }
storage: sqlite:${join(dir, 'sluice.db')}
${oneModelYaml('http://127.0.0.1:9', 'sk-sluice-handoff-key-0001')}
`,
    );
    sluice = runSluice(['start', '--workers', '2', '--config', config], { SLUICE_MASTER_KEY: Buffer.alloc(32, 5).toString('base64') });
    await waitFor(sluice.output, /sluice workers are listening/, 90_000);
  });

  after(async () => {
    if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
  });

  test('are closed when it dies, as its own connections are: none is left waiting', { timeout: 120_000 }, async () => {
    const [victim] = childrenOf(sluice.child.pid!);
    assert.ok(victim !== undefined, 'the primary has workers');
    process.kill(victim, 'SIGSTOP');
    try {
      // Half of each listener's go to the stopped worker (each balancer hands a connection to the worker holding fewer):
      // the first waits in the channel for an acknowledgement that never comes, the rest wait behind it in the primary.
      const gateway = Array.from({ length: 8 }, () => probe(gatewayPort, 20_000));
      const admin = Array.from({ length: 8 }, () => probe(adminPort, 20_000));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      process.kill(victim, 'SIGKILL');
      for (const [listener, outcomes] of [
        ['gateway', gateway],
        ['admin', admin],
      ] as const) {
        const settled = await Promise.all(outcomes);
        assert.deepEqual(
          settled.filter((outcome) => outcome === 'hung'),
          [],
          `every ${listener} connection answered by the live worker or closed with the dead one (${settled.join(', ')})`,
        );
        assert.ok(settled.includes('answered'), `the live worker answered its share of the ${listener}'s`);
        assert.ok(settled.includes('closed'), `the dead worker's share of the ${listener}'s was closed`);
      }
    } finally {
      try {
        process.kill(victim, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await waitFor(sluice.output, /a worker died; starting another in its place/, 30_000);
    // The replacement takes connections: the gateway serves on.
    await waitFor(() => String(childrenOf(sluice.child.pid!).filter((pid) => pid !== victim).length), /^2$/, 60_000);
    for (let i = 0; i < 4; i++) {
      assert.equal(await probe(gatewayPort, 20_000), 'answered');
      assert.equal(await probe(adminPort, 20_000), 'answered');
    }
    assert.equal(await stopSluice(sluice), 0);
  });
});
