// The discovery reporter's on-disk spool: batches of observations the director could not take yet, one file each, named
// by a sequence number so they are replayed in the order they were made, across restarts too. Bounded in bytes: a batch
// that would pass the bound is refused, and the caller counts and logs what it dropped.
import { mkdir, readdir, readFile, stat, unlink, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

const NAME = /^(\d{12})\.json$/;

export class ObservationSpool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly files: Array<{ seq: number; bytes: number }>;
  private next: number;
  private bytes: number;

  private constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.files = [];
    this.next = 1;
    this.bytes = 0;
  }

  /** Opens (making) the folder and takes up what an earlier run left in it. */
  static async open(dir: string, maxBytes: number): Promise<ObservationSpool> {
    const spool = new ObservationSpool(dir, maxBytes);
    await mkdir(dir, { recursive: true });
    for (const name of (await readdir(dir)).sort()) {
      const match = NAME.exec(name);
      if (match === null) continue;
      const seq = Number(match[1]);
      const { size } = await stat(join(dir, name));
      spool.files.push({ seq, bytes: size });
      spool.bytes += size;
      spool.next = Math.max(spool.next, seq + 1);
    }
    return spool;
  }

  get count(): number {
    return this.files.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}.json`);
  }

  /** Writes one batch behind the others; false (nothing written) when it would pass the bound. */
  async append(batch: unknown): Promise<boolean> {
    const text = JSON.stringify(batch);
    const bytes = Buffer.byteLength(text);
    if (this.bytes + bytes > this.maxBytes) return false;
    const seq = this.next++;
    const target = this.path(seq);
    // Written whole under a temporary name, then renamed: a crash never leaves half a batch to replay.
    await writeFile(`${target}.tmp`, text);
    await rename(`${target}.tmp`, target);
    this.files.push({ seq, bytes });
    this.bytes += bytes;
    return true;
  }

  /** The oldest batch, or null when the spool is empty. */
  async peek(): Promise<unknown> {
    const head = this.files[0];
    if (head === undefined) return null;
    return JSON.parse(await readFile(this.path(head.seq), 'utf8')) as unknown;
  }

  /** Removes the oldest batch once the director took it. */
  async shift(): Promise<void> {
    const head = this.files.shift();
    if (head === undefined) return;
    this.bytes -= head.bytes;
    await unlink(this.path(head.seq));
  }
}
