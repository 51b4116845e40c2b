// The record of stored responses of a lone gateway on memory (memory.ts), journaled to a file in its ledger spool folder
// (which the spool's lock keeps to this process alone), so that a restart on the same folder keeps what it recorded:
// the owners of its consumers' responses, reachable through Sluice for as long as the provider keeps them, and their
// previous_response_id checks. Each record and each deletion is one line appended after the call's answer has gone; at
// start the journal is read back (expired records left out) and written anew with what it holds, as it is again once
// it has grown to twice the records held. Not fsync'd: a power loss may lose its last lines, and those responses answer
// 404 through Sluice, as one dropped past responses.maxEntries does.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { MemoryResponseRecords, type HeldRecord } from './memory.js';
import { decodeOwner, isResponseId, type ResponseOwner, type ResponseRecords } from './records.js';

/** One line of the journal: a record (`owner`, `expiresAt`), or a deletion (neither). */
interface JournalLine {
  id: string;
  owner?: ResponseOwner;
  expiresAt?: number;
}

export class JournaledResponseRecords implements ResponseRecords {
  readonly kind = 'memory';
  private readonly memory: MemoryResponseRecords;
  private readonly file: string;
  private readonly logger: Logger;
  /** The journal read back: every call waits for it (at start only). */
  private readonly loaded: Promise<void>;
  private journal: WriteStream | null;
  /** Lines in the journal: past twice the records held, it is written anew. */
  private lines: number;
  private compacting: Promise<void> | null;
  /** The lines appended while the journal is written anew, for the new one (null: not being written anew). */
  private held: string[] | null;

  constructor(file: string, maxEntries: number, logger: Logger) {
    this.memory = new MemoryResponseRecords(maxEntries);
    this.file = file;
    this.logger = logger;
    this.journal = null;
    this.lines = 0;
    this.compacting = null;
    this.held = null;
    this.loaded = this.load().catch((error: unknown) =>
      this.logger.warn({ file, err: (error as Error).message }, 'stored responses: the journal of their record could not be read back'),
    );
  }

  async get(id: string): Promise<ResponseOwner | null> {
    await this.loaded;
    return this.memory.get(id);
  }

  async set(id: string, owner: ResponseOwner, ttlMs: number): Promise<void> {
    await this.loaded;
    await this.memory.set(id, owner, ttlMs);
    this.append({ id, owner, expiresAt: Date.now() + ttlMs });
  }

  async delete(id: string): Promise<void> {
    await this.loaded;
    await this.memory.delete(id);
    this.append({ id });
  }

  async close(): Promise<void> {
    await this.loaded;
    await this.compacting;
    const journal = this.journal;
    this.journal = null;
    if (journal !== null) await new Promise<void>((resolve) => journal.end(resolve));
    await this.memory.close();
  }

  private append(line: JournalLine): void {
    const text = `${JSON.stringify(line)}\n`;
    if (this.held !== null) this.held.push(text);
    else if (this.journal !== null) this.journal.write(text);
    else return;
    if (++this.lines > 2 * Math.max(this.memory.size, 1_000) && this.compacting === null)
      this.compacting = this.compact().finally(() => {
        this.compacting = null;
      });
  }

  private async load(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const now = Date.now();
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (line === null) continue;
      if (line.owner === undefined || line.expiresAt === undefined) await this.memory.delete(line.id);
      else if (line.expiresAt > now) await this.memory.set(line.id, line.owner, line.expiresAt - now);
    }
    await this.compact();
  }

  /** Writes the journal anew with the records held, and appends to it from then on. */
  private async compact(): Promise<void> {
    // From now on, lines wait for the new journal: the old one is about to be replaced.
    this.held = [];
    try {
      const records = this.memory.held();
      const temporary = `${this.file}.tmp`;
      await writeFile(temporary, records.map((record) => `${JSON.stringify(lineOf(record))}\n`).join(''));
      const previous = this.journal;
      this.journal = null;
      if (previous !== null) await new Promise<void>((resolve) => previous.end(resolve));
      await rename(temporary, this.file);
      this.lines = records.length;
      const journal = createWriteStream(this.file, { flags: 'a' });
      journal.on('error', (error) =>
        this.logger.warn({ file: this.file, err: error.message }, 'stored responses: the journal of their record could not be written'),
      );
      this.journal = journal;
    } finally {
      const waiting = this.held;
      this.held = null;
      // To the new journal; to the old one still open if it could not be written anew.
      if (this.journal !== null) for (const text of waiting) this.journal.write(text);
      this.lines += waiting.length;
    }
  }
}

function lineOf(record: HeldRecord): JournalLine {
  return { id: record.id, owner: record.owner, expiresAt: record.expiresAt };
}

/** A line of the journal, or null for one cut short (the process killed mid-write) or not one. */
function parseLine(raw: string): JournalLine | null {
  if (raw === '') return null;
  try {
    const value = JSON.parse(raw) as { id?: unknown; owner?: unknown; expiresAt?: unknown };
    if (typeof value.id !== 'string' || !isResponseId(value.id)) return null;
    if (value.owner === undefined) return { id: value.id };
    const owner = decodeOwner(JSON.stringify(value.owner));
    if (owner === null || typeof value.expiresAt !== 'number') return null;
    return { id: value.id, owner, expiresAt: value.expiresAt };
  } catch {
    return null;
  }
}
