// A TCP relay a test puts between Sluice and a server (PostgreSQL, Redis) to cut the connection and restore it at will,
// or to hold the server's answers back (a slow network).
import net from 'node:net';

export class TcpRelay {
  private readonly target: { host: string; port: number };
  private readonly server: net.Server;
  /** Both ends of every relayed connection. */
  private readonly sockets: Set<net.Socket>;
  private cutOff: boolean;
  /** Set by loseAnswerAfter(): the bytes that end the connection once the server has them. */
  private lastWords: Buffer | null;
  /** Set by delayAnswers(): how long the server's bytes are held before the client gets them. */
  private answerDelayMs: number;

  private constructor(target: { host: string; port: number }) {
    this.target = target;
    this.sockets = new Set();
    this.cutOff = false;
    this.lastWords = null;
    this.answerDelayMs = 0;
    this.server = net.createServer((client) => this.relay(client));
  }

  /** Listens on a free loopback port and relays every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    const relay = new TcpRelay(target);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Resets every relayed connection and refuses new ones until restore(). */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /**
   * The next time a client sends `marker` (e.g. PostgreSQL's COMMIT), the server gets it and the client's connection is
   * dropped before the answer: the server does the work, the client never learns it was done.
   */
  loseAnswerAfter(marker: Buffer): void {
    this.lastWords = marker;
  }

  /** From now on the client gets the server's bytes `ms` after they came, in order (0: at once). */
  delayAnswers(ms: number): void {
    this.answerDelayMs = ms;
  }

  restore(): void {
    this.cutOff = false;
  }

  /**
   * Closes every relayed connection (plainly: resetting a socket at this point could leave node spinning on it, keeping
   * the test's process from exiting) and stops listening.
   */
  async close(): Promise<void> {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    // Refused while cut: accepted and reset at once, as a firewall's RST would.
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let answerLost = false;
    const close = () => {
      client.destroy();
      // After loseAnswerAfter's marker the server's side is closing in order: destroying it could lose the marker.
      if (!answerLost) upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      if (this.lastWords !== null && chunk.includes(this.lastWords)) {
        this.lastWords = null;
        answerLost = true;
        // Delivered, then the server's side closed in order (it reads the whole message first); the client's reset.
        upstream.end(chunk);
        client.resetAndDestroy();
        return;
      }
      upstream.write(chunk);
    });
    // Timers of one delay fire in the order they were set: the bytes keep theirs.
    upstream.on('data', (chunk: Buffer) => {
      if (this.answerDelayMs === 0) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), this.answerDelayMs);
    });
    upstream.on('end', () => {
      if (this.answerDelayMs === 0) client.end();
      else setTimeout(() => client.end(), this.answerDelayMs);
    });
  }
}
