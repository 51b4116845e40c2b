// The records of followed background responses in Redis, shared by every gateway on it (followed-records.ts says what
// they are). Three keys under one hash tag (one slot, should the Redis be a cluster): a hash of the records by response
// id, a hash of each record's owner, and a sorted set of each claim's expiry. Every step is one Lua script, so two
// gateways adopting at once adopt each record once, and a record is taken once. Expiries are on Redis's clock (TIME), so
// the gateways' clocks need not agree.
import type { Redis } from 'ioredis';
import { decodeFollowed, encodeFollowed, type FollowedRecord, type FollowedRecords } from './followed-records.js';

/** A step waits no longer than this: the following retries at its next turn. */
const TIMEOUT_MS = 5_000;

const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: records, owners, claims. ARGV: id, record, owner, claim ms. */
const PUT_LUA = `${NOW_LUA}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
return 1`;

/** ARGV: owner, claim ms, then the ids. Returns the ids whose claim is not the owner's any more. */
const RENEW_LUA = `${NOW_LUA}
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[2]), ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost`;

/** ARGV: owner, claim ms, max. Returns the records adopted; a claim left without its record is dropped. */
const ADOPT_LUA = `${NOW_LUA}
local out = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(expired) do
  local record = redis.call('HGET', KEYS[1], id)
  if record then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[2], id, ARGV[1])
    out[#out + 1] = record
  else
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
return out`;

/** ARGV: id. Returns the record, removed with its claim, or nil. */
const TAKE_LUA = `local record = redis.call('HGET', KEYS[1], ARGV[1])
if record then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return record`;

/** ARGV: owner, then the ids. The owner's claims expire now. */
const RELEASE_LUA = `for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then redis.call('ZADD', KEYS[3], 'XX', 0, ARGV[i]) end
end
return 1`;

export class RedisFollowedRecords implements FollowedRecords {
  readonly kind = 'redis';
  /** ioredis is loaded with the first store, and only where background responses are metered. */
  private readonly redis: Promise<Redis>;
  private readonly keys: [string, string, string];

  constructor(url: string, prefix: string) {
    this.redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: TIMEOUT_MS, enableOfflineQueue: true });
      // Errors reach the caller of each step, which retries at its next turn.
      redis.on('error', () => undefined);
      return redis;
    });
    const tag = `${prefix}{background}`;
    this.keys = [`${tag}:records`, `${tag}:owners`, `${tag}:claims`];
  }

  private async run(lua: string, args: Array<string | number>): Promise<unknown> {
    return (await this.redis).eval(lua, 3, ...this.keys, ...args);
  }

  async put(record: FollowedRecord, owner: string, claimMs: number): Promise<void> {
    await this.run(PUT_LUA, [record.id, encodeFollowed(record), owner, claimMs]);
  }

  async renew(ids: readonly string[], owner: string, claimMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.run(RENEW_LUA, [owner, claimMs, ...ids])) as string[];
  }

  async adopt(owner: string, claimMs: number, max: number): Promise<FollowedRecord[]> {
    if (max <= 0) return [];
    const texts = (await this.run(ADOPT_LUA, [owner, claimMs, max])) as string[];
    return texts.map(decodeFollowed).filter((record): record is FollowedRecord => record !== null);
  }

  async get(id: string): Promise<FollowedRecord | null> {
    const text = await (await this.redis).hget(this.keys[0], id);
    return text === null ? null : decodeFollowed(text);
  }

  async take(id: string): Promise<FollowedRecord | null> {
    const text = (await this.run(TAKE_LUA, [id])) as string | null;
    return text === null ? null : decodeFollowed(text);
  }

  async release(ids: readonly string[], owner: string): Promise<void> {
    if (ids.length > 0) await this.run(RELEASE_LUA, [owner, ...ids]);
  }

  async close(): Promise<void> {
    const redis = await this.redis;
    await redis.quit().catch(() => redis.disconnect());
  }
}
