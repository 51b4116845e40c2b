// The discovery gateway's listener: an HTTP forward proxy. Absolute-form requests (http://host/path) are forwarded;
// CONNECT host:port opens a tunnel. Tunnels to hosts outside the AI catalog (and to excluded ones) are spliced byte for
// byte: the client sees the origin's own certificate. Tunnels to catalog hosts are intercepted: TLS ends here with a leaf
// certificate minted from the organisation CA (ALPN h2 or http/1.1, several requests per connection) and each request is
// forwarded to the origin over verified TLS (forward.ts; gRPC calls over HTTP/2, grpc.ts). Origin-form requests are the
// proxy's own: /metrics, /healthz and the OTLP intake.
import { createServer as createHttpServer, Agent as HttpAgent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { DiscoveryConfig } from '../config/discovery-schema.js';
import type { PriceCatalog } from '../metering/price-catalog.js';
import type { LeafCertificates } from './ca.js';
import type { HostCatalog } from './catalog.js';
import type { DiscoveryPolicy } from './enforce.js';
import { connectAddress, forward, type ClientRequest, type ClientResponse, type ForwardDeps, type Target } from './forward.js';
import { forwardGrpc, isGrpc } from './grpc.js';
import { UpstreamSessions } from './h2-sessions.js';
import { Fingerprinter } from './hints.js';
import { forwardUpgrade } from './upgrade.js';
import type { DiscoveryMetrics } from './metrics.js';
import type { SeenCall } from './report.js';

/** What an intercepted TLS connection carries to the requests that come over it. */
interface Tunnel {
  host: string;
  port: number;
  clientIp: string | undefined;
  proxyUser: string | null;
}
const HANDSHAKE_TIMEOUT_MS = 15_000;

/** Tunnels are found again by the client's address and port, which the TLS socket over the tunnel shares with it. */
function peerKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? ''}|${port ?? 0}`;
}
const HOST_PATTERN = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]{1,253}):(\d{1,5})$/i;

export interface ProxyDeps {
  config: DiscoveryConfig;
  catalog: HostCatalog;
  /** Null when no CA is configured: then nothing is intercepted, every tunnel is spliced. */
  leaves: LeafCertificates | null;
  extraCa: string | null;
  policy: DiscoveryPolicy;
  prices: PriceCatalog;
  metrics: DiscoveryMetrics;
  log: Logger;
  record: (call: SeenCall) => void;
  /** Origin-form requests other than /metrics and /healthz (the OTLP intake); false when not handled. */
  local: (req: IncomingMessage, res: ServerResponse) => boolean;
}

function sha(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export class DiscoveryProxy {
  readonly server: Server;
  private readonly deps: ProxyDeps;
  private readonly forwarding: ForwardDeps;
  /** Ends the client's TLS for intercepted tunnels: ALPN h2 or http/1.1, a leaf per host (SNI) from the organisation CA. */
  private readonly tls: Http2SecureServer;
  private readonly tunnels: Map<string, Tunnel>;
  private readonly users: Map<string, Buffer> | null;
  private readonly sockets: Set<Duplex>;

  constructor(deps: ProxyDeps) {
    this.deps = deps;
    this.users = deps.config.users === undefined ? null : new Map(deps.config.users.map((user) => [user.name, sha(user.password)]));
    this.sockets = new Set();
    this.tunnels = new Map();
    // One secure context for the extra CA, not a `ca` option: https.Agent keys its socket pool by a name that joins
    // every `ca` certificate into a string per request (about 200 KB with the system roots), which made that
    // concatenation 40% of the proxy's CPU.
    const upstreamContext = deps.extraCa === null ? undefined : createSecureContext({ ca: [...rootCertificates, deps.extraCa] });
    const httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 256,
      ...(upstreamContext === undefined ? {} : { secureContext: upstreamContext }),
    });
    this.forwarding = {
      config: deps.config,
      httpsAgent,
      upstreamContext,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
      h2Sessions: new UpstreamSessions(deps.config, upstreamContext),
      policy: deps.policy,
      prices: deps.prices,
      fingerprints: new Fingerprinter(deps.config.fingerprintKey),
      metrics: deps.metrics,
      log: deps.log,
      record: deps.record,
    };
    this.server = createHttpServer({ requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onConnect(req, socket as Socket, head));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      deps.log.debug({ code: error.code }, 'discovery: a client sent what is not HTTP');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.tls = createSecureServer(
      {
        allowHTTP1: true,
        ALPNProtocols: ['h2', 'http/1.1'],
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        SNICallback: (servername, callback) => this.certificateFor(servername, callback),
      },
      (req, res) => this.onIntercepted(req, res),
    );
    this.tls.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onInterceptedUpgrade(req, socket, head));
    this.tls.on('tlsClientError', (error: NodeJS.ErrnoException) =>
      deps.log.debug({ code: error.code }, 'discovery: an intercepted handshake failed'),
    );
    this.tls.on('sessionError', () => undefined);
  }

  /** The leaf for an intercepted host named by SNI; a name outside the catalog gets none (the handshake fails). */
  private certificateFor(servername: string, callback: (error: Error | null, context?: SecureContext) => void): void {
    if (this.deps.leaves === null || this.deps.catalog.lookup(servername) === null) {
      callback(new Error(`${servername} is not intercepted`));
      return;
    }
    Promise.resolve(this.deps.leaves.context(servername)).then(
      (context) => callback(null, context),
      (error: Error) => callback(error),
    );
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.forwarding.httpsAgent.destroy();
    this.forwarding.httpAgent.destroy();
    this.forwarding.h2Sessions.close();
    await closed;
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** The proxy user, '' when no authentication is configured, null when the credentials are missing or wrong. */
  private authenticate(req: IncomingMessage): string | null {
    if (this.users === null) return '';
    const header = req.headers['proxy-authorization'];
    const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null;
    if (match === null) return null;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return null;
    const name = decoded.slice(0, colon);
    const expected = this.users.get(name);
    const given = sha(decoded.slice(colon + 1));
    // Compared in constant time, and hashed first so the comparison never depends on the password's length.
    return expected !== undefined && timingSafeEqual(expected, given) ? name : null;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!/^http:\/\//i.test(req.url ?? '/')) {
      this.onLocal(req, res);
      return;
    }
    const target = this.absoluteTarget(req);
    if (typeof target === 'number') {
      const refused =
        target === 407
          ? { message: 'Proxy authentication required.', type: 'proxy_error', code: 'proxy_auth_required' }
          : { message: 'Not a valid absolute URL.', type: 'proxy_error', code: 'bad_request' };
      res.writeHead(target, {
        'content-type': 'application/json',
        ...(target === 407 ? { 'proxy-authenticate': 'Basic realm="sluice discovery"' } : {}),
      });
      res.end(JSON.stringify({ error: refused }));
      return;
    }
    this.forward(req, res, target);
  }

  /** Where an absolute-form request goes (its url made origin-form), or the status refusing it: 407 or 400. */
  private absoluteTarget(req: IncomingMessage): Target | 407 | 400 {
    const user = this.authenticate(req);
    if (user === null) return 407;
    let parsed: URL;
    try {
      parsed = new URL(req.url ?? '/');
    } catch {
      return 400;
    }
    this.deps.metrics.connections.inc({ kind: 'http' });
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    req.url = `${parsed.pathname}${parsed.search}`;
    return {
      secure: false,
      host,
      port: parsed.port === '' ? 80 : Number(parsed.port),
      entry: this.deps.catalog.lookup(host),
      clientIp: req.socket.remoteAddress,
      proxyUser: user === '' ? null : user,
    };
  }

  /** An absolute-form request asking to switch protocols (a ws:// WebSocket): passed on, and spliced once switched. */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!/^http:\/\//i.test(req.url ?? '/')) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    const target = this.absoluteTarget(req);
    if (target === 407) {
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="sluice discovery"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
      );
    } else if (target === 400) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else forwardUpgrade(req, socket, head, target, this.forwarding);
  }

  /** An upgrade over an intercepted tunnel (a wss:// WebSocket such as OpenAI's Realtime API). */
  private onInterceptedUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = this.interceptedTarget(req);
    if (target === null) {
      socket.destroy();
      return;
    }
    forwardUpgrade(req, socket, head, target, this.forwarding);
  }

  private onLocal(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      void this.deps.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType });
          res.end(text);
        },
        () => res.destroy(),
      ); // both branches settle it
      return;
    }
    if (this.deps.local(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { message: 'This is a forward proxy: send absolute-form requests or CONNECT.', type: 'proxy_error', code: 'not_found' },
      }),
    );
  }

  private onConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const user = this.authenticate(req);
    if (user === null) {
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="sluice discovery"\r\ncontent-length: 0\r\n\r\n',
      );
      return;
    }
    const match = HOST_PATTERN.exec(req.url ?? '');
    const port = match === null ? 0 : Number(match[2]);
    if (match === null || port < 1 || port > 65535) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nCONNECT needs host:port\n');
      return;
    }
    const host = match[1]!.replace(/^\[|\]$/g, '').toLowerCase();
    const tunnel: Tunnel = { host, port, clientIp: socket.remoteAddress, proxyUser: user === '' ? null : user };
    const entry = this.deps.leaves === null ? null : this.deps.catalog.lookup(host);
    if (entry === null) this.splice(tunnel, socket, head);
    else void this.intercept(tunnel, socket, head); // intercept() handles its own failures
  }

  /** A tunnel the proxy does not look into: bytes both ways, the origin's own TLS end to end. */
  private splice(tunnel: Tunnel, socket: Socket, head: Buffer): void {
    this.deps.metrics.connections.inc({ kind: 'tunneled' });
    const address = connectAddress(this.deps.config, tunnel.host, tunnel.port);
    const upstream = netConnect({ host: address.host, port: address.port });
    let connected = false;
    upstream.setNoDelay(true);
    socket.setNoDelay(true);
    upstream.once('connect', () => {
      connected = true;
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && socket.writable)
        socket.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${tunnel.host}:${tunnel.port} cannot be reached (${error.code ?? 'error'})\n`,
        );
      else socket.destroy();
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }

  /** Ends the client's TLS here with a leaf for the host, then serves HTTP/1.1 or h2 over it. */
  private async intercept(tunnel: Tunnel, socket: Socket, head: Buffer): Promise<void> {
    this.deps.metrics.connections.inc({ kind: 'intercepted' });
    try {
      // Minted before the tunnel opens, so a failure is answered here; the handshake then finds it cached.
      await this.deps.leaves!.context(tunnel.host);
    } catch (error) {
      this.deps.log.error({ host: tunnel.host, err: (error as Error).message }, 'discovery: a leaf certificate cannot be minted');
      socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (socket.destroyed) return;
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    this.tunnels.set(key, tunnel);
    socket.setNoDelay(true);
    socket.once('close', () => this.tunnels.delete(key));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    this.tls.emit('connection', socket);
  }

  private onIntercepted(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
    const target = this.interceptedTarget(req);
    if (target === null) {
      res.writeHead(500);
      res.end();
      return;
    }
    this.forward(req, res, target);
  }

  /** The tunnel a request over intercepted TLS came through; null when it is not known (any more). */
  private interceptedTarget(req: IncomingMessage | Http2ServerRequest): Target | null {
    const tunnel = this.tunnels.get(peerKey(req.socket.remoteAddress, req.socket.remotePort));
    if (tunnel === undefined) return null;
    return {
      secure: true,
      host: tunnel.host,
      port: tunnel.port,
      entry: this.deps.catalog.lookup(tunnel.host),
      clientIp: tunnel.clientIp,
      proxyUser: tunnel.proxyUser,
    };
  }

  /**
   * forward() answers its own failures; anything it did not foresee is logged and the exchange cut, rather than left to
   * reject unhandled, which ends a Node process.
   */
  private forward(req: ClientRequest, res: ClientResponse, target: Target): void {
    // gRPC needs HTTP/2 to the origin (its status is in trailers); everything else goes on over HTTP/1.1.
    const forwarded =
      target.secure && isGrpc(req)
        ? forwardGrpc(req, res as Http2ServerResponse, target, this.forwarding)
        : forward(req, res, target, this.forwarding);
    forwarded.catch((error: unknown) => {
      this.forwarding.log.error({ err: (error as Error).message, host: target.host }, 'discovery: a proxied exchange failed');
      res.destroy();
    });
  }
}
