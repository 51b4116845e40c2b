// A lone gateway's directory: the director's snapshot, polled over HTTP with If-None-Match, never more than one request
// at a time and each bounded in time, so a director that is down or slow only delays updates, never a call.
import { preloadRequest, request } from '../wire/undici.js';
import type { DirectoryParts, DirectorySource } from './sync.js';

const TIMEOUT_MS = 5_000;

export class RemoteDirector implements DirectorySource {
  private readonly url: string;
  private readonly keyUseUrl: string;
  private readonly token: string;

  constructor(directorUrl: string, token: string) {
    this.url = `${directorUrl.replace(/\/+$/, '')}/api/gateway/snapshot`;
    this.keyUseUrl = `${directorUrl.replace(/\/+$/, '')}/api/gateway/key-use`;
    this.token = token;
    preloadRequest();
  }

  read(): Promise<DirectoryParts> {
    return this.fetch(null) as Promise<DirectoryParts>;
  }

  changedSince(version: number): Promise<DirectoryParts | null> {
    return this.fetch(version);
  }

  /** Tells the director when keys were last used; an answer other than 204 is an error (the caller logs it). */
  async recordKeyUse(usage: ReadonlyMap<string, number>): Promise<void> {
    const keys = [...usage].map(([id, lastUsedAt]) => ({ id, lastUsedAt }));
    for (let at = 0; at < keys.length; at += 10_000) {
      const response = await request(this.keyUseUrl, {
        method: 'POST',
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ keys: keys.slice(at, at + 10_000) }),
      });
      const text = await response.body.text();
      if (response.statusCode !== 204)
        throw new Error(`director answered ${response.statusCode} for ${this.keyUseUrl}: ${text.slice(0, 300)}`);
    }
  }

  private async fetch(version: number | null): Promise<DirectoryParts | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (version !== null) headers['if-none-match'] = `"v${version}"`;
    const response = await request(this.url, { method: 'GET', headers, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
    if (response.statusCode === 304) {
      await response.body.dump();
      return null;
    }
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      // The director's own error message, never the token.
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new Error(`director answered ${response.statusCode} for ${this.url}: ${message}`);
    }
    return JSON.parse(text) as DirectoryParts;
  }
}
