// HTTP/2 connections to the origins the discovery proxy sends gRPC calls to: gRPC needs HTTP/2 end to end (trailers
// carry its status), so those calls cannot go through the HTTPS agent's HTTP/1.1 pool. One session per origin, shared
// by its calls, verified as forward.ts verifies upstreams (system CAs plus `upstream.caFile`, the host name checked, the
// `upstream.resolve` mapping applied), and closed once idle.
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import type { DiscoveryConfig } from '../config/discovery-schema.js';
import { connectAddress } from './forward.js';

/** A session that carried nothing for this long is closed (its open streams, if any, finish first). */
const IDLE_MS = 60_000;

export class UpstreamSessions {
  private readonly config: DiscoveryConfig;
  private readonly context: SecureContext | undefined;
  private readonly sessions: Map<string, ClientHttp2Session>;

  constructor(config: DiscoveryConfig, context: SecureContext | undefined) {
    this.config = config;
    this.context = context;
    this.sessions = new Map();
  }

  /** The session to host:port, opened on first use; a closed, closing or failed one is replaced. */
  get(host: string, port: number): ClientHttp2Session {
    const key = `${host}:${port}`;
    const open = this.sessions.get(key);
    if (open !== undefined && !open.closed && !open.destroyed) return open;
    const address = connectAddress(this.config, host, port);
    const session = http2Connect(`https://${port === 443 ? host : key}`, {
      createConnection: () => {
        const socket = tlsConnect({
          host: address.host,
          port: address.port,
          servername: isIP(host) === 0 ? host : undefined,
          ALPNProtocols: ['h2'],
          ...(this.context === undefined ? {} : { secureContext: this.context }),
        });
        // An origin that does not speak HTTP/2 cannot take a gRPC call: said plainly, not as a framing error later.
        socket.once('secureConnect', () => {
          if (socket.alpnProtocol !== 'h2') {
            const error: NodeJS.ErrnoException = new Error(`${host} does not speak HTTP/2 (ALPN ${socket.alpnProtocol || 'none'})`);
            error.code = 'ERR_UPSTREAM_NOT_H2';
            socket.destroy(error);
          }
        });
        return socket;
      },
    });
    // Its failures reach the calls on it (their streams fail); the session itself only leaves the pool.
    session.on('error', () => undefined);
    const forget = () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    session.once('close', forget);
    session.once('goaway', forget);
    session.setTimeout(IDLE_MS, () => {
      forget();
      session.close();
    });
    this.sessions.set(key, session);
    return session;
  }

  /** Closes every session (on the proxy's stop): their calls end with them. */
  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
