// The Lua scripts behind RedisCounterStore (redis.ts): a reservation, a seeding and a lease, each one atomic step in
// Redis, and the commands they are defined as. What a script reads and returns is written beside it.
import { LEASE_NEAR_DIVISOR } from './counter-store.js';

/**
 * The whole of MemoryCounterStore.reserve, run by Redis as one atomic step.
 *
 * Per line i (1-based), two keys and five arguments:
 *   KEYS[2i-1]  the bucket key
 *   KEYS[2i]    the previous bucket key; the bucket key itself when there is none (the script then never reads it),
 *               so every key a call names stays the caller's own and the script would hash-tag cleanly on a cluster
 *   ARGV[5i-4]  amount (an integer, may be negative)
 *   ARGV[5i-3]  enforce: '1' or '0'
 *   ARGV[5i-2]  limit
 *   ARGV[5i-1]  previous weight; '0' when the previous bucket does not count
 *   ARGV[5i]    ttl in ms (a positive integer)
 * then the marker key (redis.ts' SEEDED_MARKER) last in KEYS, and the mode last in ARGV:
 *   'count'     a reservation: as the memory store
 *   'check'     a reservation that first makes sure the counters were not lost: a missing bucket while the marker is
 *               missing too (a FLUSHDB, a Redis restart without persistence) answers { 'seed', '-1' } and writes
 *               nothing, so the gateway seeds the counters from the ledger and reserves again. A missing bucket with
 *               the marker there is a window nobody has counted in yet. The marker is read only when a bucket is missing.
 *   'settle'    settlements when the counters can be seeded again: a missing bucket is left missing (its reservation
 *               was lost with it; created by what the call gives back, it would stand below zero and hide the loss)
 *
 * Returns { admitted ('1' | '0'), refused index (0-based, '-1' when admitted), then per line the bucket's value and the
 * previous bucket's value as they were before the call }. Raw GET strings, not Lua numbers: Redis truncates a Lua
 * number to an integer reply and tostring keeps only 14 digits, so the weighting is redone in JS with the very same
 * double arithmetic the script compared with (and the memory store uses), giving identical `used` figures.
 *
 * Every value is read before anything is written, as in memory, so a key named by two lines (or as one line's
 * previous bucket) is judged on its value before the call. INCRBY runs even for an amount of 0: memory creates the
 * entry then too. The expiry only ever grows (PTTL is -1 for a key just created, so it gets one).
 */
export const RESERVE_LUA = `
local lines = (#KEYS - 1) / 2
local mode = ARGV[5 * lines + 1]
local out = { '1', '-1' }
local refused = -1
local missing = {}
for i = 1, lines do
  local base = 5 * (i - 1)
  local weight = tonumber(ARGV[base + 4])
  local current = redis.call('GET', KEYS[2 * i - 1])
  if not current then
    if mode == 'check' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return { 'seed', '-1' } end
    missing[i] = true
    current = '0'
  end
  local previous = '0'
  if weight > 0 then previous = redis.call('GET', KEYS[2 * i]) or '0' end
  out[2 * i + 1] = current
  out[2 * i + 2] = previous
  if refused == -1 and ARGV[base + 2] == '1' then
    local used = tonumber(current)
    if weight > 0 then used = used + tonumber(previous) * weight end
    if used + tonumber(ARGV[base + 1]) > tonumber(ARGV[base + 3]) then refused = i - 1 end
  end
end
if refused ~= -1 then
  out[1] = '0'
  out[2] = tostring(refused)
  return out
end
for i = 1, lines do
  if not (mode == 'settle' and missing[i]) then
    local base = 5 * (i - 1)
    local key = KEYS[2 * i - 1]
    local ttl = tonumber(ARGV[base + 5])
    redis.call('INCRBY', key, ARGV[base + 1])
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
return out
`;

/**
 * Counter seeding (CounterStore.seed), one atomic step per batch of keys. KEYS: the seeded keys, then SEEDED_MARKER.
 * ARGV: per key its value and ttl in ms, then '1' to set the marker (a complete seeding). Each key is raised to its
 * value, never lowered nor added to: a maximum, so seeds applied twice, or by two gateways at once, count once. A key
 * that was there keeps its expiry unless the seed's is later (KEEPTTL: Redis 6.0 or later).
 */
export const SEED_LUA = `
local seeds = #KEYS - 1
for i = 1, seeds do
  local key = KEYS[i]
  local value = ARGV[2 * i - 1]
  local ttl = tonumber(ARGV[2 * i])
  local current = redis.call('GET', key)
  if not current then
    redis.call('SET', key, value, 'PX', ttl)
  elseif tonumber(current) < tonumber(value) then
    redis.call('SET', key, value, 'KEEPTTL')
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
if ARGV[2 * seeds + 1] == '1' then redis.call('SET', KEYS[seeds + 1], '1') end
return seeds
`;

/**
 * CounterStore.lease in one atomic step, leaseGranted's rule in Lua. Per request i (1-based), two keys as RESERVE_LUA's
 * line and five arguments: ARGV[5i-4] the amount that must fit, ARGV[5i-3] the extra wanted, ARGV[5i-2] the limit,
 * ARGV[5i-1] the previous bucket's weight, ARGV[5i] the ttl in ms; then the marker key last in KEYS and the mode
 * ('count' or 'check', as RESERVE_LUA) last in ARGV. Returns per request the room granted, the bucket's value and the
 * previous bucket's value ('0' when its weight is 0) before it, as strings (the weighting redone in JS, as for
 * RESERVE_LUA), or { 'seed' } as RESERVE_LUA's 'check'.
 */
export const LEASE_LUA = `
local lines = (#KEYS - 1) / 2
local mode = ARGV[5 * lines + 1]
local out = {}
for i = 1, lines do
  local base = 5 * (i - 1)
  local key = KEYS[2 * i - 1]
  local current = redis.call('GET', key)
  if not current then
    if mode == 'check' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return { 'seed' } end
    current = '0'
  end
  local weight = tonumber(ARGV[base + 4])
  local previous = '0'
  if weight > 0 then previous = redis.call('GET', KEYS[2 * i]) or '0' end
  local used = tonumber(current)
  if weight > 0 then used = used + tonumber(previous) * weight end
  local amount = tonumber(ARGV[base + 1])
  local room = tonumber(ARGV[base + 3]) - used
  local granted = 0
  if room >= amount then
    local extra = math.floor((room - amount) / ${LEASE_NEAR_DIVISOR})
    if extra > tonumber(ARGV[base + 2]) then extra = tonumber(ARGV[base + 2]) end
    if extra < 0 then extra = 0 end
    granted = amount + extra
    if granted > 0 then
      local ttl = tonumber(ARGV[base + 5])
      redis.call('INCRBY', key, granted)
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    end
  end
  out[3 * i - 2] = tostring(granted)
  out[3 * i - 1] = current
  out[3 * i] = previous
end
return out
`;

/** The commands defineCommand adds: no fixed key count, so the count goes first. */
export type ScriptCommand<Reply> = (numberOfKeys: number, ...keysThenArgs: string[]) => Promise<Reply>;
export const RESERVE_COMMAND = 'sluiceReserve';
export const SEED_COMMAND = 'sluiceSeed';
export const LEASE_COMMAND = 'sluiceLease';
export type ReserveMode = 'count' | 'check' | 'settle';
export type Scripts = Record<typeof RESERVE_COMMAND | typeof LEASE_COMMAND, ScriptCommand<string[]>> &
  Record<typeof SEED_COMMAND, ScriptCommand<number>>;
