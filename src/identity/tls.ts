// TLS on a listener: the certificate, key and client CA read from their files, and read again when a file changes, the
// server's secure context swapped (server.setSecureContext): new handshakes get the renewed certificate, connections
// already open keep theirs, nothing restarts or drops.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { RequestListener } from 'node:http';
import { basename, dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsConfig } from '../config/identity-schema.js';

/** Certificate managers write a pair in a burst (key, then chain, often by rename): one reload per burst. */
const SETTLE_MS = 150;

export class ListenerTls {
  readonly config: TlsConfig;
  private context: SecureContextOptions;
  private readonly watchers: FSWatcher[];
  private timer: NodeJS.Timeout | null;
  /** Reloads that installed a new certificate, for tests and the log. */
  reloads: number;

  private constructor(config: TlsConfig, context: SecureContextOptions) {
    this.config = config;
    this.context = context;
    this.watchers = [];
    this.timer = null;
    this.reloads = 0;
  }

  /** Reads the files; a file that cannot be read, or a key that does not match its certificate, fails the start. */
  static async load(config: TlsConfig): Promise<ListenerTls> {
    const context = await readContext(config);
    createSecureContext(context);
    return new ListenerTls(config, context);
  }

  /** Whether the listener asks clients for a certificate (a client CA is configured). */
  get verifiesClients(): boolean {
    return this.config.clientCaFile !== undefined;
  }

  /**
   * An HTTPS server with the listener's settings. On the gateway a client certificate is asked for but not enforced at
   * the handshake: the request handler refuses a missing or untrusted one in the API's own error shape (socket.authorized
   * says which). `refuseAtHandshake` (the admin listener) ends a connection without a trusted certificate at once.
   */
  createServer(options: HttpsServerOptions, listener: RequestListener, refuseAtHandshake = false): HttpsServer {
    const server = createHttpsServer(
      { ...options, ...this.context, requestCert: this.verifiesClients, rejectUnauthorized: refuseAtHandshake },
      listener,
    );
    return server;
  }

  /** Watches the files' folders (a renewal often renames a new file over the old) and swaps the server's context. */
  watch(server: HttpsServer, logger: Logger): void {
    const files = [
      this.config.certFile,
      this.config.keyFile,
      ...(this.config.clientCaFile === undefined ? [] : [this.config.clientCaFile]),
    ];
    const byFolder = new Map<string, Set<string>>();
    for (const file of files) {
      const folder = dirname(resolve(file));
      let names = byFolder.get(folder);
      if (names === undefined) byFolder.set(folder, (names = new Set()));
      names.add(basename(file));
    }
    for (const [folder, names] of byFolder) {
      try {
        this.watchers.push(
          watch(folder, { persistent: false }, (_event, name) => {
            if (name === null || names.has(name)) this.schedule(server, logger);
          }),
        );
      } catch (error) {
        logger.warn({ folder, err: (error as Error).message }, 'TLS files cannot be watched here: a renewed certificate needs a restart');
      }
    }
  }

  private schedule(server: HttpsServer, logger: Logger): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload(server, logger);
    }, SETTLE_MS);
    this.timer.unref();
  }

  /** A pair caught half-written (the key of one, the chain of the other) is not installed; the next change event retries. */
  async reload(server: HttpsServer, logger: Logger): Promise<void> {
    try {
      const context = await readContext(this.config);
      createSecureContext(context);
      server.setSecureContext(context);
      this.context = context;
      this.reloads++;
      logger.info({ certFile: this.config.certFile }, 'TLS certificate reloaded');
    } catch (error) {
      logger.warn(
        { certFile: this.config.certFile, err: (error as Error).message },
        'TLS files changed but cannot be used yet; the previous certificate stays',
      );
    }
  }

  close(): void {
    for (const watcher of this.watchers.splice(0)) watcher.close();
    if (this.timer !== null) clearTimeout(this.timer);
  }
}

async function readContext(config: TlsConfig): Promise<SecureContextOptions> {
  const [cert, key, ca] = await Promise.all([
    readFile(config.certFile),
    readFile(config.keyFile),
    config.clientCaFile === undefined ? undefined : readFile(config.clientCaFile),
  ]);
  return {
    cert,
    key,
    minVersion: config.minVersion,
    ...(config.ciphers === undefined ? {} : { ciphers: config.ciphers }),
    ...(ca === undefined ? {} : { ca }),
  };
}
