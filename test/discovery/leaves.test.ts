// The leaf certificates the discovery proxy mints per intercepted host: wildcard catalog patterns stand for any number of
// names, so what is kept is bounded; a leaf that was dropped is minted again when its host comes back, and it verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:tls';
import { createCertificateAuthority, LeafCertificates } from '../../src/discovery/ca.js';

test('a client naming a new *.openai.azure.com host in every CONNECT cannot grow the leaf cache past its bound', async () => {
  const ca = await createCertificateAuthority('Bounded leaves CA');
  const leaves = new LeafCertificates(ca, 7, 3);
  for (let i = 0; i < 8; i++) await leaves.context(`tenant-${i}.openai.azure.com`);
  assert.equal(leaves.minted, 8);
  assert.equal(leaves.cached, 3);
  // The first host's leaf was dropped: asked for again, it is minted again and a client trusting the CA accepts it.
  const context = await leaves.context('tenant-0.openai.azure.com');
  assert.equal(leaves.minted, 9);
  assert.equal(leaves.cached, 3);
  const server = createServer({ SNICallback: (_name, callback) => callback(null, context) }, (socket) => socket.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', servername: 'tenant-0.openai.azure.com', ca: ca.certPem }, () => undefined);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.equal(answer, 'ok');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
