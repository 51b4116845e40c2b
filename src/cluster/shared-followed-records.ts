// A worker's view of the records of followed background responses its primary holds in memory (when the record of
// stored responses is in memory): each step asked over IPC. The primary lets a dead worker's claims expire at once, so a
// surviving worker, or the one replacing it, adopts them at its next sweep.
import type { FollowedRecord, FollowedRecords } from '../gateway/stored-responses/followed-records.js';
import type { PrimaryLink } from './primary-link.js';

export class SharedFollowedRecords implements FollowedRecords {
  readonly kind = 'primary' as const;
  private readonly link: PrimaryLink;

  constructor(link: PrimaryLink) {
    this.link = link;
  }

  put(record: FollowedRecord, owner: string, claimMs: number): Promise<void> {
    return this.link.request({ op: 'followed-put', record, owner, claimMs });
  }

  renew(ids: readonly string[], owner: string, claimMs: number): Promise<string[]> {
    return this.link.request({ op: 'followed-renew', ids: [...ids], owner, claimMs });
  }

  adopt(owner: string, claimMs: number, max: number): Promise<FollowedRecord[]> {
    return this.link.request({ op: 'followed-adopt', owner, claimMs, max });
  }

  async get(id: string): Promise<FollowedRecord | null> {
    return (await this.link.request<FollowedRecord | null | undefined>({ op: 'followed-get', id })) ?? null;
  }

  async take(id: string): Promise<FollowedRecord | null> {
    return (await this.link.request<FollowedRecord | null | undefined>({ op: 'followed-take', id })) ?? null;
  }

  release(ids: readonly string[], owner: string): Promise<void> {
    return this.link.request({ op: 'followed-release', ids: [...ids], owner });
  }

  /** The records are the primary's; they go with the primary. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The owner id a worker follows its responses under: the primary knows it from the worker's pid when it dies. */
export function workerOwner(pid: number): string {
  return `worker:${pid}`;
}
