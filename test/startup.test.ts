// Starting sluice as an operator does: `sluice start --help`, the listeners' flags and variables, what the first log
// lines say, and a port in use said plainly.
import { describe, test } from 'node:test';
import { SEMI_SPACE_FLAG } from '../src/cluster/primary.js';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './support/cli.js';
import { listeningPorts, runSluice, SLUICE_ENTRY, stopSluice, waitFor } from './support/process.js';
import { scratchDir } from './support/scratch.js';

async function busyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function writeConfig(dir: string, gatewayPort: number, adminPort: number): string {
  const path = join(dir, 'sluice.yaml');
  writeFileSync(
    path,
    `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort} }
storage: sqlite:${join(dir, 'sluice.db')}
providers:
  local: { type: openai, baseUrl: "http://127.0.0.1:9/v1", apiKey: not-a-real-key-0000 }
models:
  - name: local-model
    targets: [{ provider: local, model: local-model }]
`,
  );
  return path;
}

describe('starting sluice', () => {
  test('`sluice check --help` and `sluice demo --help` describe their own command, not the general help', async () => {
    const check = await runCli(['check', '--help']);
    assert.equal(check.code, 0);
    assert.match(check.stdout, /^Usage: sluice check --config FILE/);
    assert.match(check.stdout, /exits 2/);
    const demo = await runCli(['demo', '--help']);
    assert.equal(demo.code, 0);
    assert.match(demo.stdout, /^Usage: sluice demo \[options\]/);
    for (const flag of ['--port PORT', '--admin-port PORT', '--host HOST'])
      assert.ok(demo.stdout.includes(flag), `demo --help names ${flag}`);
  });

  test("`sluice start --help` lists the listeners' flags, their variables and the data files; the entry point is a node script", async () => {
    const help = await runCli(['start', '--help']);
    assert.equal(help.code, 0);
    for (const expected of [
      '--port PORT',
      '$SLUICE_PORT',
      '--host HOST',
      '$SLUICE_HOST',
      '--admin-port PORT',
      '$SLUICE_ADMIN_PORT',
      '--admin-host HOST',
      '$SLUICE_ADMIN_HOST',
      '$SLUICE_LOG_FORMAT',
      'admin.token',
      'default-consumer.key',
      'master.key',
    ]) {
      assert.ok(help.stdout.includes(expected), `start --help names ${expected}`);
    }
    const general = await runCli(['--help']);
    assert.equal(general.code, 0);
    assert.match(general.stdout, /^Usage: sluice \[command\]/);
    assert.match(general.stdout, /sluice start --help/);
    // Executed directly, the bin runs under node with the flags every Sluice process has (the workers' default).
    assert.ok(readFileSync(SLUICE_ENTRY, 'utf8').startsWith(`#!/usr/bin/env -S node ${SEMI_SPACE_FLAG}\n`), 'the bin runs under node');
  });

  test('a flag wins over its variable, which wins over sluice.yaml; a reload keeps the overrides without asking for a restart', async () => {
    const busy = await busyPort();
    const dir = scratchDir('sluice-start-');
    // The file names a port in use for both listeners, and so does SLUICE_PORT: only the overrides let it start.
    const config = writeConfig(dir, busy.port, busy.port);
    const sluice = runSluice(['start', '--config', config, '--port', '0', '--host', '127.0.0.1'], {
      SLUICE_PORT: String(busy.port),
      SLUICE_HOST: 'localhost',
      SLUICE_ADMIN_PORT: '0',
      SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=',
    });
    try {
      const ports = await listeningPorts(sluice);
      assert.notEqual(ports.gateway, busy.port);
      assert.notEqual(ports.admin, busy.port);
      assert.match(sluice.output(), /"gateway":\{"port":\d+,"host":"127\.0\.0\.1"\}/, '--host over SLUICE_HOST');
      const health = await fetch(`http://127.0.0.1:${ports.admin}/healthz`);
      assert.equal(health.status, 200);

      writeFileSync(config, `${readFileSync(config, 'utf8')}# edited\n`);
      await waitFor(sluice.output, /config reloaded/);
      assert.doesNotMatch(sluice.output(), /only take effect after a restart/);
    } finally {
      assert.equal(await stopSluice(sluice), 0);
      busy.server.close();
    }
  });

  test('`sluice demo` on a port in use says so as `sluice start` does, without a stack trace', async () => {
    const busy = await busyPort();
    try {
      const demo = runSluice(['demo', '--port', '0', '--admin-port', String(busy.port)]);
      assert.equal(await demo.exited, 1);
      assert.ok(
        demo
          .output()
          .includes(`sluice: cannot listen on 127.0.0.1:${busy.port} for the admin API: the address is already in use (EADDRINUSE)`),
        demo.output(),
      );
      assert.doesNotMatch(demo.output(), /\n\s+at /, 'no stack trace');
    } finally {
      busy.server.close();
    }
  });

  test('a port in use stops the start with a message naming the address, the listener and the way out', async () => {
    const busy = await busyPort();
    const dir = scratchDir('sluice-start-');
    try {
      const sluice = runSluice(['start', '--config', writeConfig(dir, 0, 0), '--admin-port', String(busy.port)], {
        SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=',
      });
      assert.equal(await sluice.exited, 1);
      assert.ok(
        sluice
          .output()
          .includes(`sluice: cannot listen on 127.0.0.1:${busy.port} for the admin API: the address is already in use (EADDRINUSE)`),
        sluice.output(),
      );
      assert.match(sluice.output(), /another process listens there; choose another with --admin-port or SLUICE_ADMIN_PORT\n/);
      assert.doesNotMatch(sluice.output(), /\n\s+at /, 'no stack trace');
      const bad = runSluice(['start', '--config', writeConfig(dir, 0, 0), '--port', 'eighty']);
      assert.equal(await bad.exited, 2);
      assert.match(bad.output(), /--port: a port from 0 to 65535 \(0: any free port\), got "eighty"/);
      const typo = await runCli(['start', '--prot', '8080']);
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /^sluice: Unknown option '--prot'.*\(see "sluice --help" and "sluice start --help"\)\n$/);
      assert.doesNotMatch(typo.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      busy.server.close();
    }
  });

  test('a store that cannot be opened stops the start in one line naming it (never its password), without a stack trace', async () => {
    const dir = scratchDir('sluice-start-');
    const path = writeConfig(dir, 0, 0);
    // Nothing listens on port 1: the connection is refused at once.
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(/^storage: .*$/m, 'storage: postgres://sluice:not-the-password@127.0.0.1:1/nowhere'),
    );
    const sluice = runSluice(['start', '--config', path], { SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=' });
    assert.equal(await sluice.exited, 1);
    assert.match(
      sluice.output(),
      /^sluice: cannot open the (ledger: cannot open the )?PostgreSQL store at postgres:\/\/sluice@127\.0\.0\.1:1\/nowhere: /m,
    );
    assert.doesNotMatch(sluice.output(), /not-the-password/);
    assert.doesNotMatch(sluice.output(), /\n\s+at /, 'no stack trace');
  });

  test('the first lines name the storage, the counters, each provider with its base URL and the listeners; pretty when asked', async () => {
    const dir = scratchDir('sluice-start-');
    const json = runSluice(['start', '--config', writeConfig(dir, 0, 0)], {
      SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=',
    });
    try {
      await listeningPorts(json);
      const messages = json
        .output()
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      const listening = messages.indexOf('sluice is listening');
      const startup = [
        `storage: SQLite at ${join(dir, 'sluice.db')}`,
        'counters: in memory (budgets and rate limits count in this process only)',
        'providers: local (openai) http://127.0.0.1:9/v1',
      ];
      assert.deepEqual(
        messages.filter((message) => startup.includes(message)),
        startup,
        'each once, in this order',
      );
      assert.ok(messages.indexOf(startup[0]!) > -1 && messages.indexOf(startup[2]!) < listening, 'before the listening line');
      assert.ok(!json.output().includes('not-a-real-key-0000'));
    } finally {
      assert.equal(await stopSluice(json), 0);
    }

    const pretty = runSluice(['start', '--config', writeConfig(dir, 0, 0)], {
      SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=',
      SLUICE_LOG_FORMAT: 'pretty',
    });
    try {
      await waitFor(pretty.output, /INFO.*sluice is listening/);
      const line = pretty
        .output()
        .split('\n')
        .find((text) => text.includes('sluice is listening'))!;
      assert.ok(!line.startsWith('{'), 'a line for a person, not JSON');
      assert.match(pretty.output(), /INFO.*providers: local \(openai\) http:\/\/127\.0\.0\.1:9\/v1/);
      // eslint-disable-next-line no-control-regex -- ESC is the colour codes' first byte
      assert.doesNotMatch(pretty.output(), /\u001b\[/, 'no colours when stdout is not a terminal');
    } finally {
      assert.equal(await stopSluice(pretty), 0);
    }
  });

  test('a cost budget over a model with no price is warned of at start and on reload, until the model has pricing', async () => {
    const dir = scratchDir('sluice-start-');
    const config = writeConfig(dir, 0, 0);
    const budgeted = `${readFileSync(config, 'utf8')}
consumers:
  - { name: checkout, team: payments, keys: [sk-sluice-startup-checkout-0001] }
budgets:
  - { name: payments-monthly, consumers: { team: payments }, measure: cost_usd, limit: 100, window: month, mode: enforce }
  - { name: payments-tokens, consumers: { team: payments }, measure: total_tokens, limit: 1000000, window: month }
`;
    writeFileSync(config, budgeted);
    const sluice = runSluice(['start', '--config', config], { SLUICE_MASTER_KEY: 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=' });
    const warning = /budget \\"payments-monthly\\" limits cost, but local\/local-model \(model \\"local-model\\"\) has no price/g;
    try {
      await waitFor(sluice.output, /sluice is listening/);
      assert.equal(sluice.output().match(warning)?.length, 1, 'once at start, for the cost budget alone');
      writeFileSync(config, budgeted.replace('local-model }]', 'local-model }]\n    pricing: { input: 1, output: 2 }'));
      await waitFor(sluice.output, /config reloaded/);
      assert.equal(sluice.output().match(warning)?.length, 1, 'not again once priced');
    } finally {
      assert.equal(await stopSluice(sluice), 0);
    }
  });
});
