// The ledger's spool: batches the store could not take in time, one file each in a folder of this process's own, written
// atomically (a temporary file, fsync, rename), replayed oldest first and deleted once committed. A restart finds them
// there and replays them before anything newer.
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import type { PackedBatch } from './batch.js';
import { writeDurably } from './durable-file.js';

/** A batch read back from the spool, with its key (the store's idempotency key) and when it was spooled. */
export interface SpooledBatch {
  key: string;
  batch: PackedBatch;
  file: string;
  spooledAt: number;
}

interface SpoolFile {
  name: string;
  records: number;
  bytes: number;
  spooledAt: number;
}

/** What a spool file holds: v8's serialization of this (typed arrays and strings as they are). */
interface SpoolRecord {
  key: string;
  batch: PackedBatch;
}

/** Told of a file take() could not read back (moved aside as `<name>.unreadable`): its records are lost to the replay. */
type Unreadable = (file: string, records: number, error: Error) => void;

const LOCK = 'spool.lock';

/** Another live process holds the spool folder: an operator's mistake (two gateways on one folder), not a fault. */
export class SpoolInUse extends Error {
  constructor(dir: string, holder: number) {
    super(`the ledger spool folder ${dir} is in use by process ${holder}: give each gateway its own ledger.spoolDir`);
    this.name = 'SpoolInUse';
  }
}
/** `<order, 12 digits>-<records>.batch`: the name sorts in spooled order and says how many records it holds. */
const FILE = /^(\d{12})-(\d+)\.batch$/;

/**
 * Beside the SQLite file and named after it (`./data/sluice.db-ledger-spool`), so gateways with databases in one folder
 * keep apart; with PostgreSQL `./data/ledger-spool` (the data folder main.ts uses).
 */
export function defaultSpoolDir(storage: string): string {
  if (storage.startsWith('sqlite:') && sqlitePath(storage) !== ':memory:') return `${sqlitePath(storage)}-ledger-spool`;
  if (isPostgresUrl(storage) || storage.startsWith('sqlite:')) return join('data', 'ledger-spool');
  throw new Error('storage must be sqlite:<path> or postgres://...');
}

export class Spool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly onUnreadable: Unreadable;
  /** Oldest first: on disk, or being written (counted from the moment append() accepts them). */
  private readonly files: SpoolFile[];
  /** How many files at the head of `files` were handed out by take() and are not yet removed. */
  private taken: number;
  private nextOrder: number;
  /** File operations, one after another, so a take() reads only files whose write has finished. */
  private tail: Promise<unknown>;
  records: number;
  bytes: number;
  /** Appends not yet durable. */
  writing: number;

  private constructor(dir: string, maxBytes: number, onUnreadable: Unreadable, files: SpoolFile[]) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.onUnreadable = onUnreadable;
    this.files = files;
    this.taken = 0;
    this.nextOrder = files.length === 0 ? 1 : Number(FILE.exec(files.at(-1)!.name)![1]) + 1;
    this.tail = Promise.resolve();
    this.records = files.reduce((sum, file) => sum + file.records, 0);
    this.bytes = files.reduce((sum, file) => sum + file.bytes, 0);
    this.writing = 0;
  }

  /**
   * Takes the folder for this process (a second process on the same folder is refused: give each gateway its own) and
   * indexes the batches a previous run left there.
   */
  static async open(dir: string, maxBytes: number, onUnreadable: Unreadable): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    await lock(dir);
    const files: SpoolFile[] = [];
    for (const name of (await readdir(dir)).sort()) {
      const match = FILE.exec(name);
      if (match === null) {
        // A temporary file is a write a crash interrupted: its batch was still in memory, and lost with it.
        if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
        continue;
      }
      const info = await stat(join(dir, name));
      files.push({ name, records: Number(match[2]), bytes: info.size, spooledAt: info.mtimeMs });
    }
    return new Spool(dir, maxBytes, onUnreadable, files);
  }

  /** Batches on disk not yet handed out by take(). */
  get waiting(): number {
    return this.files.length - this.taken;
  }

  get length(): number {
    return this.files.length;
  }

  /** When the oldest batch still in the spool was written there; null when it is empty. */
  get oldestAt(): number | null {
    return this.files[0]?.spooledAt ?? null;
  }

  /**
   * Writes the batch to a file of its own; resolves once it is durable. 'full' (and nothing written) when it would take
   * the spool past its size bound.
   */
  append(key: string, batch: PackedBatch): Promise<void> | 'full' {
    // Exact-size copies: a batch's arrays are views of buffers sized for a full batch.
    const record: SpoolRecord = {
      key,
      batch: {
        count: batch.count,
        numbers: batch.numbers.slice(),
        refs: batch.refs.slice(),
        strings: batch.strings,
        ids: batch.ids.slice(),
      },
    };
    const payload = serialize(record);
    if (this.bytes + payload.length > this.maxBytes) return 'full';
    const file: SpoolFile = {
      name: `${String(this.nextOrder++).padStart(12, '0')}-${batch.count}.batch`,
      records: batch.count,
      bytes: payload.length,
      spooledAt: Date.now(),
    };
    this.files.push(file);
    this.records += file.records;
    this.bytes += file.bytes;
    this.writing++;
    return this.queue(async () => {
      try {
        await writeDurably(this.dir, file.name, payload);
      } catch (error) {
        this.forget(file.name);
        throw error;
      } finally {
        this.writing--;
      }
    });
  }

  /** Records in the oldest batch not yet taken (0 when none waits). */
  get nextRecords(): number {
    return this.files[this.taken]?.records ?? 0;
  }

  /**
   * Reads the oldest batches not yet taken, at most `maxFiles` of them holding at most `maxRecords` records together;
   * they stay on disk until remove().
   */
  take(maxRecords: number, maxFiles: number): Promise<SpooledBatch[]> {
    const files: SpoolFile[] = [];
    let records = 0;
    for (let at = this.taken; at < this.files.length && files.length < maxFiles; at++) {
      const file = this.files[at]!;
      if (records + file.records > maxRecords) break;
      files.push(file);
      records += file.records;
    }
    this.taken += files.length;
    return this.queue(async () => {
      const batches: SpooledBatch[] = [];
      for (const file of files) {
        // Its write failed after take() chose it.
        if (!this.files.includes(file)) continue;
        let record: SpoolRecord;
        try {
          record = deserialize(await readFile(join(this.dir, file.name))) as SpoolRecord;
        } catch (error) {
          // Kept aside for an operator, out of the replay.
          await rename(join(this.dir, file.name), join(this.dir, `${file.name}.unreadable`)).catch(() => undefined);
          this.forget(file.name);
          this.onUnreadable(file.name, file.records, error as Error);
          continue;
        }
        batches.push({ key: record.key, batch: record.batch, file: file.name, spooledAt: file.spooledAt });
      }
      return batches;
    });
  }

  /** Deletes a batch's file once the store holds its records. */
  remove(name: string): Promise<void> {
    return this.queue(async () => {
      try {
        await unlink(join(this.dir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.forget(name);
    });
  }

  /** Waits for the file operations under way; batches taken but not removed stay on disk for the next start. */
  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await unlink(join(this.dir, LOCK)).catch(() => undefined);
  }

  private forget(name: string): void {
    const index = this.files.findIndex((file) => file.name === name);
    if (index === -1) return;
    const [file] = this.files.splice(index, 1);
    if (index < this.taken) this.taken--;
    this.records -= file!.records;
    this.bytes -= file!.bytes;
  }

  private queue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** One process per spool folder: a lock file holding its pid, taken over when that process is gone. */
async function lock(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new SpoolInUse(dir, holder);
    }
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`cannot lock the ledger spool folder ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
