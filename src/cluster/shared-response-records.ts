// A worker's view of the record of stored responses its primary holds in memory (when `responses.store` is memory):
// each look-up and write asked over IPC, so every worker sees the responses any of them recorded.
import type { ResponseOwner, ResponseRecords } from '../gateway/stored-responses/records.js';
import type { PrimaryLink } from './primary-link.js';

export class SharedResponseRecords implements ResponseRecords {
  readonly kind = 'memory' as const;
  private readonly link: PrimaryLink;

  constructor(link: PrimaryLink) {
    this.link = link;
  }

  async get(id: string): Promise<ResponseOwner | null> {
    return (await this.link.request<ResponseOwner | null | undefined>({ op: 'response-owner', id })) ?? null;
  }

  set(id: string, owner: ResponseOwner, ttlMs: number): Promise<void> {
    return this.link.request({ op: 'response-record', id, owner, ttlMs });
  }

  delete(id: string): Promise<void> {
    return this.link.request({ op: 'response-forget', id });
  }

  /** The record is the primary's; it goes with the primary. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
