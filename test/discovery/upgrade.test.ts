// WebSockets through the discovery proxy: a wss:// session with an intercepted AI host (OpenAI's Realtime API, with
// undici's WebSocket through its ProxyAgent) opens, carries messages both ways and is recorded as a call with its model;
// a ws:// handshake sent to the proxy in absolute form, to a host outside the catalog, switches protocols untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProxyAgent, WebSocket } from 'undici';
import { HttpsMock, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import { keyFingerprint } from '../../src/policy/discovery.js';

/** RFC 6455's handshake answer, and an echo of each text frame (client frames are masked, server frames are not). */
function echoWebSocket(req: IncomingMessage, socket: Duplex): void {
  const accept = createHash('sha1')
    .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 6) {
      const opcode = pending[0]! & 0x0f;
      const length = pending[1]! & 0x7f; // short frames only: the test's messages are small
      if (pending.length < 6 + length) return;
      const mask = pending.subarray(2, 6);
      const payload = Buffer.from(pending.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]!));
      pending = pending.subarray(6 + length);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      const answer = Buffer.from(`echo:${payload.toString('utf8')}`);
      socket.write(Buffer.concat([Buffer.from([0x81, answer.length]), answer]));
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
}

describe('discovery: WebSockets through the proxy', () => {
  let tls: TlsFixture;
  let realtime: HttpsMock;
  let plainSite: Server;
  let discovery: RunningDiscovery;
  let upgraded: IncomingMessage[];

  before(async () => {
    tls = await tlsFixture();
    upgraded = [];
    realtime = await HttpsMock.start(await tls.serverCert(['api.openai.com']), (_request, res) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"WebSocket only"}}');
    });
    realtime.onUpgrade((req, socket) => {
      upgraded.push(req);
      echoWebSocket(req, socket);
    });
    plainSite = createServer((_req, res) => {
      res.writeHead(426);
      res.end();
    });
    plainSite.on('upgrade', (req: IncomingMessage, socket: Duplex) => echoWebSocket(req, socket));
    await new Promise<void>((resolve) => plainSite.listen(0, '127.0.0.1', resolve));
    discovery = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com': `127.0.0.1:${realtime.port}` } },
    });
  });

  after(async () => {
    await discovery.stop();
    await realtime.close();
    plainSite.closeAllConnections();
    await new Promise<void>((resolve) => plainSite.close(() => resolve()));
  });

  test("wss:// to OpenAI's Realtime API over the intercepted tunnel: it opens, echoes both ways, and is recorded with its model", async () => {
    const dispatcher = new ProxyAgent({ uri: discovery.url, requestTls: { ca: tls.orgCaPem } });
    const socket = new WebSocket('wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview', {
      dispatcher,
      headers: { authorization: 'Bearer sk-realtime-not-real', 'openai-beta': 'realtime=v1' },
    } as ConstructorParameters<typeof WebSocket>[1]);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => socket.send('session.update');
      socket.onmessage = (event) => {
        messages.push(String(event.data));
        socket.close();
      };
      socket.onclose = () => resolve();
      socket.onerror = () => reject(new Error('the WebSocket failed'));
    });
    assert.deepEqual(messages, ['echo:session.update']);
    // The origin got the client's own handshake and credentials, not the proxy's.
    const handshake = upgraded.at(-1)!;
    assert.equal(handshake.url, '/v1/realtime?model=gpt-4o-realtime-preview');
    assert.equal(handshake.headers.authorization, 'Bearer sk-realtime-not-real');
    assert.equal(handshake.headers['openai-beta'], 'realtime=v1');
    const [observation, ...others] = discovery.aggregator.drain();
    assert.equal(others.length, 0);
    assert.equal(observation!.provider, 'openai');
    assert.equal(observation!.model, 'gpt-4o-realtime-preview');
    assert.equal(observation!.calls, 1);
    assert.equal(observation!.source.keyFingerprint, keyFingerprint('sk-realtime-not-real'));
    await dispatcher.close();
  });

  test('ws:// in absolute form to a host outside the catalog: the handshake switches protocols and frames pass untouched', async () => {
    const { port } = plainSite.address() as { port: number };
    const client: Socket = netConnect(discovery.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(
      `GET http://127.0.0.1:${port}/socket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let received = Buffer.alloc(0);
    const headEnd = () => received.indexOf('\r\n\r\n');
    const more = () =>
      new Promise<void>((resolve) => client.once('data', (chunk: Buffer) => ((received = Buffer.concat([received, chunk])), resolve())));
    while (headEnd() === -1) await more();
    const head = received.subarray(0, headEnd()).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    received = received.subarray(headEnd() + 4);
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('hello');
    client.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]));
    while (received.length < 2 + 'echo:hello'.length) await more();
    assert.equal(received.subarray(2).toString('utf8'), 'echo:hello');
    client.destroy();
  });

  test('an h2c upgrade on a POST to a server that does not switch: the body goes on and the answer comes back', async () => {
    const echo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(`got:${Buffer.concat(chunks).toString('utf8')}`));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const { port } = echo.address() as { port: number };
    const client: Socket = netConnect(discovery.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const body = 'x'.repeat(70_000);
    client.write(
      `POST http://127.0.0.1:${port}/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    client.write(body);
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk as Buffer);
    const answer = Buffer.concat(chunks).toString('utf8');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(answer.endsWith(`got:${body}`), answer.slice(0, 300));
    echo.closeAllConnections();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  /** Sends a raw request to the proxy and reads everything it answers until it closes. */
  const exchange = async (request: string | string[]): Promise<string> => {
    const client: Socket = netConnect(discovery.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    for (const part of typeof request === 'string' ? [request] : request) client.write(part);
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  test('an h2c upgrade on a POST with a chunked body to a server that does not switch: the body goes on and the answer comes back', async () => {
    const echo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(`got:${Buffer.concat(chunks).toString('utf8')}|trailer:${String(req.trailers['x-checksum'])}`));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const { port } = echo.address() as { port: number };
    const big = 'y'.repeat(70_000);
    // Chunks of several sizes, an extension, a trailer field, and the framing split at awkward places across writes.
    const framed = `5;name=value\r\nhello\r\n${big.length.toString(16)}\r\n${big}\r\n1\r\n!\r\n0\r\nx-checksum: abc\r\n\r\n`;
    const answer = await exchange([
      `POST http://127.0.0.1:${port}/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nTransfer-Encoding: chunked\r\n\r\n${framed.slice(0, 3)}`,
      framed.slice(3, 70_010),
      framed.slice(70_010),
    ]);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(answer.endsWith(`got:hello${big}!|trailer:abc`), answer.slice(0, 300));
    echo.closeAllConnections();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  test('an upgrade with a chunked body to a server that switches: the body goes on decoded, what follows it is spliced', async () => {
    const switching = createServer((_req, res) => res.end('not an upgrade'));
    const bodies: string[] = [];
    switching.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node leaves an upgrade request's body to the handler: read it as Node's client framed it, then switch.
      let buffered = head;
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('0\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        bodies.push(buffered.subarray(0, end).toString('utf8'));
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${String(req.headers.upgrade)}\r\nConnection: Upgrade\r\n\r\n`);
        const after = buffered.subarray(end + 5);
        if (after.length > 0) socket.write(`echo:${after.toString('utf8')}`);
        socket.on('data', (more: Buffer) => socket.write(`echo:${more.toString('utf8')}`));
        socket.on('end', () => socket.end());
      };
      socket.on('data', onData);
      onData(Buffer.alloc(0));
    });
    await new Promise<void>((resolve) => switching.listen(0, '127.0.0.1', resolve));
    const { port } = switching.address() as { port: number };
    const client: Socket = netConnect(discovery.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(
      `POST http://127.0.0.1:${port}/switch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: example/1\r\nConnection: Upgrade\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nfirst',
    );
    let received = '';
    await new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (received.includes('echo:first')) resolve();
      });
      client.once('close', () => resolve());
    });
    assert.match(received, /^HTTP\/1\.1 101 /);
    assert.deepEqual(
      bodies.map((body) => body.replace(/\r\n/g, '|')),
      ['5|hello|'],
      'the origin got the body, framed anew',
    );
    client.end();
    switching.closeAllConnections();
    await new Promise<void>((resolve) => switching.close(() => resolve()));
  });

  test('an upgrade with a malformed chunked body is a 400 and the origin gets nothing', async () => {
    let seen = 0;
    const origin = createServer(() => seen++);
    origin.on('upgrade', (_req: IncomingMessage, socket: Duplex) => (seen++, socket.destroy()));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const { port } = origin.address() as { port: number };
    for (const framed of ['zz\r\nhello\r\n0\r\n\r\n', '5\nhello\n0\n\n', '5\r\nhello!!\r\n0\r\n\r\n']) {
      const answer = await exchange(
        `POST http://127.0.0.1:${port}/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n` +
          `Transfer-Encoding: chunked\r\n\r\n${framed}`,
      );
      assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(framed));
    }
    assert.equal(seen, 0);
    origin.closeAllConnections();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });
});
