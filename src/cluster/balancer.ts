// The gateway's listening socket, held by the primary of `sluice start --workers N`, which hands each connection to the
// worker holding the fewest open connections.
//
// Why not node:cluster's own sharing: its round-robin hands a worker the next pending connection as soon as it has
// taken one, so a burst of connections (an SDK's keep-alive pool opening 16 at once) goes mostly to whichever worker
// answers first: measured 13 to 3 and 16 to 0 between two workers, which then served keep-alive calls at one worker's
// speed on a 2-core machine. A keep-alive connection carries calls for minutes, so it is the unit to balance, and
// the primary counts each worker's open ones (a worker reports each close).
import { createServer, type Server, type Socket } from 'node:net';
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** Connections accepted while no worker is ready (at start) wait for the first one, up to this many. */
const MAX_WAITING = 1_024;

interface Member {
  worker: Worker;
  open: number;
}

export class ConnectionBalancer {
  private readonly server: Server;
  private readonly members: Member[];
  private readonly waiting: Socket[];
  private readonly maxPerWorker: number;
  private readonly logger: Logger;
  /** Where the next search for the least-loaded worker starts, so ties rotate. */
  private next: number;
  private refusedFull: number;

  private constructor(server: Server, maxPerWorker: number, logger: Logger) {
    this.server = server;
    this.members = [];
    this.waiting = [];
    this.maxPerWorker = maxPerWorker;
    this.logger = logger;
    this.next = 0;
    this.refusedFull = 0;
  }

  /** Listens on the gateway's address; connections are held (paused) until a worker is ready to take them. */
  static listen(host: string, port: number, maxPerWorker: number, logger: Logger): Promise<{ balancer: ConnectionBalancer; port: number }> {
    const server = createServer({ pauseOnConnect: true });
    const balancer = new ConnectionBalancer(server, maxPerWorker, logger);
    server.on('connection', (socket: Socket) => balancer.hand(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => logger.error({ err: error.message }, 'the gateway listener failed'));
        const address = server.address();
        resolve({ balancer, port: typeof address === 'object' && address !== null ? address.port : port });
      });
    });
  }

  /** A worker whose listeners are up: it takes connections from now on, those waiting first. */
  join(worker: Worker): void {
    if (this.members.some((member) => member.worker === worker)) return;
    const member: Member = { worker, open: 0 };
    this.members.push(member);
    worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { sluice?: unknown }).sluice === 'connection-closed')
        member.open = Math.max(0, member.open - 1);
    });
    for (const socket of this.waiting.splice(0)) this.hand(socket);
  }

  /** A worker gone (exited or stopping): its connections went with it. */
  leave(worker: Worker): void {
    const at = this.members.findIndex((member) => member.worker === worker);
    if (at !== -1) this.members.splice(at, 1);
  }

  /** Stops taking connections (those already handed stay with their workers); closes the waiting ones. */
  close(): Promise<void> {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private hand(socket: Socket): void {
    socket.on('error', () => undefined);
    const member = this.leastLoaded();
    if (member === null) {
      if (this.members.length === 0 && this.waiting.length < MAX_WAITING) {
        this.waiting.push(socket);
        return;
      }
      // Every worker holds gateway.maxConnections (or, at start, too many wait for the first): refused as one process's
      // listener refuses past its limit.
      if (this.refusedFull++ % 1_000 === 0) {
        this.logger.warn(
          { maxConnections: this.maxPerWorker, workers: this.members.length },
          this.members.length === 0
            ? 'gateway connection refused: no worker is ready yet and 1,024 connections already wait'
            : 'gateway connection refused: every worker is at gateway.maxConnections',
        );
      }
      socket.destroy();
      return;
    }
    member.open++;
    member.worker.send({ sluice: 'connection' }, socket, { keepOpen: false }, (error: Error | null) => {
      if (error === null) return;
      // The worker went away as it was handed the connection: the client sees it closed, as in a crash.
      member.open = Math.max(0, member.open - 1);
      socket.destroy();
    });
  }

  private leastLoaded(): Member | null {
    let best: Member | null = null;
    const count = this.members.length;
    for (let i = 0; i < count; i++) {
      const member = this.members[(this.next + i) % count]!;
      if (!member.worker.isConnected() || member.open >= this.maxPerWorker) continue;
      if (best === null || member.open < best.open) best = member;
    }
    if (best !== null) this.next = (this.members.indexOf(best) + 1) % count;
    return best;
  }
}
