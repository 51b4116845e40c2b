// Where the listeners bind: a flag wins over its SLUICE_* variable, which wins over sluice.yaml, which wins over the default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withListenerOverrides } from '../../src/config/listeners.js';
import { validateConfig } from '../../src/config/load.js';

const fromFile = validateConfig({ gateway: { host: '10.0.0.1', port: 7000 }, admin: { host: '10.0.0.2', port: 7001 } }, 'sluice.yaml');
const bare = validateConfig({}, 'sluice.yaml');

const cases: Array<{
  name: string;
  flags: Record<string, string>;
  env: Record<string, string>;
  gateway: [string, number];
  admin: [string, number];
  config?: typeof bare;
}> = [
  { name: 'nothing given: the defaults', flags: {}, env: {}, config: bare, gateway: ['127.0.0.1', 4000], admin: ['127.0.0.1', 4001] },
  { name: 'nothing given: the file', flags: {}, env: {}, gateway: ['10.0.0.1', 7000], admin: ['10.0.0.2', 7001] },
  {
    name: 'variables over the file',
    flags: {},
    env: { SLUICE_PORT: '8000', SLUICE_HOST: '0.0.0.0', SLUICE_ADMIN_PORT: '8001', SLUICE_ADMIN_HOST: '::1' },
    gateway: ['0.0.0.0', 8000],
    admin: ['::1', 8001],
  },
  {
    name: 'flags over variables',
    flags: { port: '9000', host: 'localhost', adminPort: '0', adminHost: '127.0.0.1' },
    env: { SLUICE_PORT: '8000', SLUICE_HOST: '0.0.0.0', SLUICE_ADMIN_PORT: '8001', SLUICE_ADMIN_HOST: '::1' },
    gateway: ['localhost', 9000],
    admin: ['127.0.0.1', 0],
  },
  {
    name: 'an empty variable counts as unset',
    flags: {},
    env: { SLUICE_PORT: '' },
    gateway: ['10.0.0.1', 7000],
    admin: ['10.0.0.2', 7001],
  },
  {
    name: 'one flag leaves the other settings alone',
    flags: { adminPort: '5001' },
    env: { SLUICE_HOST: '0.0.0.0' },
    gateway: ['0.0.0.0', 7000],
    admin: ['10.0.0.2', 5001],
  },
];

for (const c of cases) {
  test(`listeners: ${c.name}`, () => {
    const config = withListenerOverrides(c.config ?? fromFile, c.flags, c.env);
    assert.deepEqual([config.gateway.host, config.gateway.port], c.gateway);
    assert.deepEqual([config.admin.host, config.admin.port], c.admin);
  });
}

test('listeners: the config given is not changed, and the gateway keeps its other settings', () => {
  const config = withListenerOverrides(fromFile, { port: '1234' }, {});
  assert.equal(fromFile.gateway.port, 7000);
  assert.equal(config.gateway.maxBodyBytes, fromFile.gateway.maxBodyBytes);
});

test('listeners: a value that is not a port or a host is refused, naming where it came from', () => {
  assert.throws(() => withListenerOverrides(bare, { port: 'http' }, {}), /--port: a port from 0 to 65535 \(0: any free port\), got "http"/);
  assert.throws(() => withListenerOverrides(bare, {}, { SLUICE_ADMIN_PORT: '70000' }), /SLUICE_ADMIN_PORT: a port from 0 to 65535/);
  assert.throws(() => withListenerOverrides(bare, {}, { SLUICE_PORT: '-1' }), /SLUICE_PORT: a port/);
  assert.throws(() => withListenerOverrides(bare, { host: 'two words' }, {}), /--host: a host name or address/);
});
