// The records of followed background responses of a lone gateway process (records in memory, no primary), kept as one
// file each in a folder of its ledger spool: the spool's lock makes the folder this process's alone, so no claims are
// needed. A process killed leaves its files; the next start on the same folder adopts them all at its first sweep and
// follows them to their end. Written after the queued answer is sent (a streamed call's: after its first event), removed
// when the call is recorded: a call that is not a background one never touches the folder. Written durably
// (ledger/durable-file.ts), so a power loss leaves a record whole or absent.
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { syncFolder, writeDurably } from '../../ledger/durable-file.js';
import { decodeFollowed, encodeFollowed, type FollowedRecord, type FollowedRecords } from './followed-records.js';
import { isResponseId } from './records.js';

const SUFFIX = '.json';

export class FileFollowedRecords implements FollowedRecords {
  readonly kind = 'file';
  private readonly dir: string;
  /** The records this process follows (kept, or adopted from the folder): the others are a dead predecessor's. */
  private readonly held: Map<string, FollowedRecord>;
  /** The records being written: their .tmp files are this process's own, not a killed predecessor's leftovers. */
  private readonly writing: Set<string>;
  private made: Promise<unknown> | null;
  private readonly logger: Logger;

  constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.logger = logger;
    this.held = new Map();
    this.writing = new Set();
    this.made = null;
  }

  private path(id: string): string {
    // Response ids are checked (records.ts) before they are followed; a file name is never made of anything else.
    if (!isResponseId(id) || id.startsWith('.')) throw new Error('not a response id');
    return join(this.dir, id + SUFFIX);
  }

  async put(record: FollowedRecord): Promise<void> {
    this.path(record.id); // checked before it names a file
    this.writing.add(record.id);
    try {
      // The folder's own name made durable too, once, or a power loss could take it with the records in it.
      await (this.made ??= mkdir(this.dir, { recursive: true })
        .then(() => syncFolder(dirname(this.dir)))
        .catch((error: unknown) => {
          this.made = null; // tried again at the next record
          throw error;
        }));
      // Whole or absent: a kill or a power loss during the write leaves a .tmp, never half a record.
      await writeDurably(this.dir, record.id + SUFFIX, encodeFollowed(record));
      this.held.set(record.id, record);
    } finally {
      this.writing.delete(record.id);
    }
  }

  renew(ids: readonly string[]): Promise<string[]> {
    return Promise.resolve(ids.filter((id) => !this.held.has(id)));
  }

  async adopt(_owner: string, _claimMs: number, max: number): Promise<FollowedRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return []; // no folder yet: nothing was ever kept
    }
    const adopted: FollowedRecord[] = [];
    for (const name of names) {
      if (adopted.length >= max) break;
      if (name.endsWith(SUFFIX + '.tmp')) {
        // A sweep can run while this process keeps a record: only a predecessor's interrupted write is removed.
        if (!this.writing.has(name.slice(0, -(SUFFIX.length + 4)))) await unlink(join(this.dir, name)).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const id = name.slice(0, -SUFFIX.length);
      if (this.held.has(id) || this.writing.has(id)) continue;
      const text = await readFile(join(this.dir, name), 'utf8').catch((error: Error) => error);
      const record = typeof text === 'string' ? decodeFollowed(text) : null;
      if (record === null || record.id !== id) {
        // Empty or cut short (a disk that did not keep its word, a hand edit): not followed, so its call goes unmetered
        // unless recorded by hand. Kept aside for an operator, as the spool keeps its unreadable batches, out of the sweeps.
        await rename(join(this.dir, name), join(this.dir, `${name}.unreadable`)).catch(() => undefined);
        this.logger.warn(
          { responseId: id, file: join(this.dir, `${name}.unreadable`), err: typeof text === 'string' ? undefined : text.message },
          'a background response`s record could not be read: not followed, its call is not metered',
        );
        continue;
      }
      this.held.set(id, record);
      adopted.push(record);
    }
    return adopted;
  }

  get(id: string): Promise<FollowedRecord | null> {
    return Promise.resolve(this.held.get(id) ?? null);
  }

  async take(id: string): Promise<FollowedRecord | null> {
    // The process's one event loop: the first to take it from `held` is its taker.
    const record = this.held.get(id);
    if (record === undefined) return null;
    this.held.delete(id);
    try {
      await unlink(this.path(id));
    } catch (error) {
      // Already gone (removed by hand): nothing is left for a next start to record again, so this taker records it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return record;
      // Left behind, the next start would record it again: held back for the follower's retry (its next turn, or that
      // next start's adoption), so it is recorded once, never lost.
      this.held.set(id, record);
      throw error;
    }
    return record;
  }

  /** Left in the folder, for the next start to adopt. */
  release(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.held.delete(id);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
