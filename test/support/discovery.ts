// Helpers for the discovery gateway's tests: certificates made in the test (an organisation CA for the proxy, a CA the
// upstreams' certificates come from, and one nobody trusts), HTTPS mock providers on loopback, CONNECT tunnels by hand,
// and a discovery gateway started in-process.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, fetch as undiciFetch, ProxyAgent, type Dispatcher } from 'undici';
import {
  createCertificateAuthority,
  issueCertificate,
  writeCertificateAuthority,
  type CertificateAuthority,
} from '../../src/discovery/ca.js';
import { startDiscovery, type RunningDiscovery } from '../../src/discovery/discovery.js';
import { validateConfig } from '../../src/config/load.js';
import { scratchDir } from './scratch.js';
import type { Received, Responder } from './mock-provider.js';

export interface TlsFixture {
  dir: string;
  orgCaFile: string;
  orgCaKeyFile: string;
  orgCaPem: string;
  upstreamCa: CertificateAuthority;
  upstreamCaFile: string;
  /** Server certificate and key for the given names, signed by the upstream CA (or by a CA nobody trusts). */
  serverCert(names: string[], trusted?: boolean): Promise<{ cert: string; key: string }>;
}

export async function tlsFixture(): Promise<TlsFixture> {
  const dir = scratchDir('sluice-discovery-');
  const orgCaFile = join(dir, 'org-ca.pem');
  const orgCaKeyFile = join(dir, 'org-ca-key.pem');
  const org = await writeCertificateAuthority(orgCaFile, orgCaKeyFile);
  const upstreamCa = await createCertificateAuthority('Test upstream CA');
  const untrusted = await createCertificateAuthority('Untrusted CA');
  const upstreamCaFile = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCaFile, upstreamCa.certPem);
  return {
    dir,
    orgCaFile,
    orgCaKeyFile,
    orgCaPem: org.certPem,
    upstreamCa,
    upstreamCaFile,
    async serverCert(names, trusted = true) {
      const ca = trusted ? upstreamCa : untrusted;
      const leaf = await issueCertificate(ca, names, 30);
      return { cert: `${leaf.certPem}\n${ca.certPem}`, key: leaf.keyPem };
    },
  };
}

/** A mock provider over HTTPS on loopback: records what it receives and answers as scripted. */
export class HttpsMock {
  readonly received: Received[] = [];
  private readonly server: Server;
  private responder: Responder;
  port = 0;

  private constructor(tls: { cert: string; key: string }, responder: Responder) {
    this.responder = responder;
    this.server = createServer(tls, (req, res) => void this.handle(req, res));
  }

  static async start(tls: { cert: string; key: string }, responder: Responder): Promise<HttpsMock> {
    const mock = new HttpsMock(tls, responder);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    const address = mock.server.address();
    mock.port = typeof address === 'object' && address !== null ? address.port : 0;
    return mock;
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  /** Takes HTTP/1.1 upgrade requests (WebSocket handshakes) on the mock's own socket. */
  onUpgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
    this.server.on('upgrade', handler);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the request was abandoned before its end: not a request the provider received
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: left to rawBody
    }
    const received: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody: text };
    this.received.push(received);
    try {
      await this.responder(received, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  }
}

/**
 * Discovery settings that intercept with the fixture's organisation CA and send `hosts` to the mock on loopback `port`,
 * trusting the fixture's upstream CA: what a test spreads into its `discovery` block beside the mode.
 */
export function interceptingTo(tls: TlsFixture, hosts: readonly string[], port: number) {
  return {
    ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
    upstream: { caFile: tls.upstreamCaFile, resolve: Object.fromEntries(hosts.map((host) => [host, `127.0.0.1:${port}`])) },
  };
}

/** undici's fetch through the proxy, trusting the organisation CA for the intercepted hosts. */
export function proxiedFetch(
  proxyUrl: string,
  orgCaPem: string,
  token?: string,
): { fetch: typeof globalThis.fetch; dispatcher: ProxyAgent } {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: orgCaPem }, ...(token === undefined ? {} : { token }) });
  const fetch = ((url: string, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof globalThis.fetch;
  return { fetch, dispatcher };
}

/** undici's fetch straight to the mock: every host name resolves to loopback, the upstream CA is trusted. */
export function directFetch(upstreamCaPem: string): { fetch: typeof globalThis.fetch; dispatcher: Dispatcher } {
  const dispatcher = new Agent({
    connect: {
      ca: upstreamCaPem,
      lookup: (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
        if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      },
    } as unknown as Agent.Options['connect'],
  });
  const fetch = ((url: string, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof globalThis.fetch;
  return { fetch, dispatcher };
}

/** Opens a CONNECT tunnel by hand; resolves with the socket and the proxy's status line once its answer's head is in. */
export function connectTunnel(
  proxyPort: number,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ socket: Socket; status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxyPort, '127.0.0.1', () => {
      const extra = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n${extra}\r\n`);
    });
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve({ socket, status: Number(head.split(' ')[1]), head });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** The sum of a prom-client counter's values whose labels include `labels`. */
export async function counter(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  return (await metric.get()).values
    .filter((value) => Object.entries(labels).every(([name, label]) => value.labels[name] === label))
    .reduce((sum, value) => sum + value.value, 0);
}

export async function startTestDiscovery(
  discovery: Record<string, unknown>,
  rest: Record<string, unknown> = {},
): Promise<RunningDiscovery> {
  const config = validateConfig(
    { log: { level: 'silent' }, ...rest, discovery: { host: '127.0.0.1', port: 0, ...discovery } },
    'test config',
  );
  return startDiscovery(config, pino({ level: 'silent' }));
}
