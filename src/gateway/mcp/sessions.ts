// Which consumer opened each MCP session. The server sees one caller, Sluice with its credentials, so it cannot tell
// one consumer's session from another's: Sluice keeps a session to the consumer that opened it.
import { LRUCache } from 'lru-cache';

/** Sessions remembered per gateway process; the oldest unused are forgotten past this. */
const MAX_SESSIONS = 50_000;

export class SessionOwners {
  /** `<server>\n<session id>` -> the consumer's name. */
  private readonly owners: LRUCache<string, string>;

  constructor() {
    this.owners = new LRUCache({ max: MAX_SESSIONS });
  }

  /**
   * The consumer that opened the server's session; undefined when this process never saw it opened (opened through
   * another gateway, before a restart, or forgotten), which nothing here can tell from a session the server ended.
   */
  owner(server: string, session: string): string | undefined {
    return this.owners.get(`${server}\n${session}`);
  }

  /** The server answered with this session id: the consumer's from now on, unless another's already. */
  seen(server: string, session: string, consumer: string): void {
    const key = `${server}\n${session}`;
    if (!this.owners.has(key)) this.owners.set(key, consumer);
  }

  /** Ended (DELETE) or gone (the server answered 404 to it). */
  ended(server: string, session: string): void {
    this.owners.delete(`${server}\n${session}`);
  }
}
