// A listening socket (the gateway's, the admin API's) held by the primary of `sluice start --workers N`, which hands
// each connection to the worker holding the fewest open connections of that listener.
//
// Why not node:cluster's own sharing: its round-robin hands a worker the next pending connection as soon as it has
// taken one, so a burst of connections (an SDK's keep-alive pool opening 16 at once) goes mostly to whichever worker
// answers first: measured 13 to 3 and 16 to 0 between two workers, which then served keep-alive calls at one worker's
// speed on a 2-core machine. A keep-alive connection carries calls for minutes, so it is the unit to balance, and
// the primary counts each worker's open ones (a worker reports each close).
//
// The primary keeps its copy of each connection until the worker says it has taken it. node:cluster's channel passes
// one handle at a time and holds the rest until the worker acknowledges the first; a worker that dies before it does
// acknowledges none, and node never closes the handles it held for it: their clients waited on connections nobody
// served (test/cluster/handoff.test.ts). With its own copies the primary closes them when the worker exits. The admin
// API's listener is held the same way: node:cluster's own sharing left a connection sent to a dying worker open.
import { createServer, type Server, type Socket } from 'node:net';
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { isSluiceMessage, type ConnectionMessage, type HandedListener } from './messages.js';

/** Connections accepted while no worker is ready (at start) wait for the first one, up to this many. */
const MAX_WAITING = 1_024;

interface Member {
  worker: Worker;
  open: number;
  /** Connections handed and not yet taken, by the id they were sent with: the primary's copies. */
  handing: Map<number, Socket>;
}

export class ConnectionBalancer {
  private readonly listener: HandedListener;
  private readonly server: Server;
  /** The workers taking connections. */
  private readonly members: Member[];
  /** Every worker handed connections and not yet exited, draining ones too: their connections may still be on the way. */
  private readonly byWorker: Map<Worker, Member>;
  private readonly waiting: Socket[];
  private readonly maxPerWorker: number;
  private readonly logger: Logger;
  /** Where the next search for the least-loaded worker starts, so ties rotate. */
  private next: number;
  private nextConnection: number;
  private refusedFull: number;

  private constructor(listener: HandedListener, server: Server, maxPerWorker: number, logger: Logger) {
    this.listener = listener;
    this.server = server;
    this.members = [];
    this.byWorker = new Map();
    this.waiting = [];
    this.maxPerWorker = maxPerWorker;
    this.logger = logger;
    this.next = 0;
    this.nextConnection = 1;
    this.refusedFull = 0;
  }

  /** Listens on the listener's address; connections are held (paused) until a worker is ready to take them. */
  static listen(
    listener: HandedListener,
    address: { host: string; port: number },
    maxPerWorker: number,
    logger: Logger,
  ): Promise<{ balancer: ConnectionBalancer; port: number }> {
    const { host, port } = address;
    const server = createServer({ pauseOnConnect: true });
    const balancer = new ConnectionBalancer(listener, server, maxPerWorker, logger);
    server.on('connection', (socket: Socket) => balancer.hand(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => logger.error({ err: error.message, listener }, 'a listener failed'));
        const address = server.address();
        resolve({ balancer, port: typeof address === 'object' && address !== null ? address.port : port });
      });
    });
  }

  /** A worker whose listeners are up: it takes connections from now on, those waiting first. */
  join(worker: Worker): void {
    if (this.byWorker.has(worker)) return;
    const member: Member = { worker, open: 0, handing: new Map() };
    this.members.push(member);
    this.byWorker.set(worker, member);
    worker.on('message', (message: unknown) => {
      if (!isSluiceMessage(message) || !('listener' in message) || message.listener !== this.listener) return;
      if (message.sluice === 'connection-closed') member.open = Math.max(0, member.open - 1);
      else if (message.sluice === 'connection-taken') {
        // The worker holds the connection now; closing the primary's copy leaves it open.
        member.handing.get(message.id)?.destroy();
        member.handing.delete(message.id);
      }
    });
    for (const socket of this.waiting.splice(0)) this.hand(socket);
  }

  /** A worker stopping: it is handed no more connections (those on their way still reach it). */
  leave(worker: Worker): void {
    const at = this.members.findIndex((member) => member.worker === worker);
    if (at !== -1) this.members.splice(at, 1);
  }

  /** A worker gone: the connections it had went with it, and those still on their way to it are closed here. */
  exited(worker: Worker): void {
    this.leave(worker);
    const member = this.byWorker.get(worker);
    this.byWorker.delete(worker);
    if (member === undefined) return;
    for (const socket of member.handing.values()) socket.destroy();
    member.handing.clear();
  }

  /** Stops taking connections (those already handed stay with their workers); closes the waiting ones. */
  close(): void {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    // Not waiting for close's callback: node:net counts a connection sent to a child process as the child's and, to call
    // it, asks every child that received one how many it still holds; a child that has exited never answers.
    this.server.close();
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
          { listener: this.listener, maxConnections: this.maxPerWorker, workers: this.members.length },
          this.members.length === 0
            ? `${this.listener} connection refused: no worker is ready yet and 1,024 connections already wait`
            : // Only the gateway's listener has a limit per worker (the admin API's is unbounded).
              'gateway connection refused: every worker is at gateway.maxConnections',
        );
      }
      socket.destroy();
      return;
    }
    member.open++;
    const id = this.nextConnection++;
    member.handing.set(id, socket);
    const message: ConnectionMessage = { sluice: 'connection', listener: this.listener, id };
    member.worker.send(message, socket, { keepOpen: true }, (error: Error | null) => {
      if (error === null) return;
      // The worker went away as it was handed the connection: the client sees it closed, as in a crash.
      member.open = Math.max(0, member.open - 1);
      member.handing.delete(id);
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
