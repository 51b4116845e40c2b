// The Lua scripts behind RedisCounterStore (redis.ts): a reservation, a seeding and a lease, each one atomic step in
// Redis, and the commands they are defined as. What a script reads and returns is written beside it.
import { LEASE_NEAR_DIVISOR } from './counter-store.js';

/** Under a bucket's key: the hash of its lease holders' records, and of its held figure (HELD_FIELD). */
export const HELD_SUFFIX = ':held';
/**
 * The field of that hash holding what the bucket holds for calls in flight and leased room rather than as usage
 * (CounterStore.seed); no holder's id (base64url) is ever this.
 */
export const HELD_FIELD = '*';

/**
 * hold: adds `delta` to the bucket's held figure (in its holder records' hash `held`), which then lives at least `ttl`
 * ms. unhold: takes `amount` off it where it is there (the hash then has its expiry), never creating a hash unexpiring.
 */
const HOLD_LUA = `
local function hold(held, delta, ttl)
  if delta == 0 then return end
  redis.call('HINCRBY', held, '${HELD_FIELD}', delta)
  if redis.call('PTTL', held) < ttl then redis.call('PEXPIRE', held, ttl) end
end
local function unhold(held, amount)
  if amount ~= 0 and redis.call('HEXISTS', held, '${HELD_FIELD}') == 1 then redis.call('HINCRBY', held, '${HELD_FIELD}', -amount) end
end
`;

/**
 * The whole of MemoryCounterStore.reserve, run by Redis as one atomic step.
 *
 * Per line i (1-based), three keys and six arguments:
 *   KEYS[3i-2]  the bucket key
 *   KEYS[3i-1]  the previous bucket key; the bucket key itself when there is none (the script then never reads it),
 *               so every key a call names stays the caller's own and the script would hash-tag cleanly on a cluster
 *   KEYS[3i]    the bucket's holder records (HELD_SUFFIX), whose field HELD_FIELD is the bucket's held figure
 *   ARGV[6i-5]  amount (an integer, may be negative)
 *   ARGV[6i-4]  enforce: '1' or '0'
 *   ARGV[6i-3]  limit
 *   ARGV[6i-2]  previous weight; '0' when the previous bucket does not count
 *   ARGV[6i-1]  ttl in ms (a positive integer)
 *   ARGV[6i]    what the held figure changes by: a reservation's amount, minus what a settled call reserved
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
export const RESERVE_LUA = `${HOLD_LUA}
local lines = (#KEYS - 1) / 3
local mode = ARGV[6 * lines + 1]
local out = { '1', '-1' }
local refused = -1
local missing = {}
for i = 1, lines do
  local base = 6 * (i - 1)
  local weight = tonumber(ARGV[base + 4])
  local current = redis.call('GET', KEYS[3 * i - 2])
  if not current then
    if mode == 'check' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return { 'seed', '-1' } end
    missing[i] = true
    current = '0'
  end
  local previous = '0'
  if weight > 0 then previous = redis.call('GET', KEYS[3 * i - 1]) or '0' end
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
    local base = 6 * (i - 1)
    local key = KEYS[3 * i - 2]
    local ttl = tonumber(ARGV[base + 5])
    redis.call('INCRBY', key, ARGV[base + 1])
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    hold(KEYS[3 * i], tonumber(ARGV[base + 6]), ttl)
  end
end
return out
`;

/**
 * Counter seeding (CounterStore.seed), one atomic step per batch of keys. KEYS: per seed the key and its holder records
 * (HELD_SUFFIX), then SEEDED_MARKER. ARGV: per seed its value, ttl in ms and what the seeding holder's calls used of its
 * room unreported (HolderReport.settled), then '1' to set the marker (a complete seeding). Each key's usage (its value
 * less its held figure, HELD_FIELD) is raised to the seed's value, never lowered nor added to: a maximum, so seeds
 * applied twice, or by two gateways at once, count once; what it holds for calls in flight and leased room stays on
 * top. A key that was there keeps its expiry unless the seed's is later (KEEPTTL: Redis 6.0 or later).
 */
export const SEED_LUA = `${HOLD_LUA}
local seeds = (#KEYS - 1) / 2
for i = 1, seeds do
  local key = KEYS[2 * i - 1]
  local value = tonumber(ARGV[3 * i - 2])
  local ttl = tonumber(ARGV[3 * i - 1])
  local current = redis.call('GET', key)
  if not current then
    redis.call('SET', key, ARGV[3 * i - 2], 'PX', ttl)
  else
    current = tonumber(current)
    unhold(KEYS[2 * i], tonumber(ARGV[3 * i]))
    local held = tonumber(redis.call('HGET', KEYS[2 * i], '${HELD_FIELD}') or '0')
    if held > current then held = current end
    if held < 0 then held = 0 end
    if current - held < value then
      redis.call('SET', key, tostring(value + held), 'KEEPTTL')
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    end
  end
end
if ARGV[3 * seeds + 1] == '1' then redis.call('SET', KEYS[#KEYS], '1') end
return seeds
`;

/**
 * Lease holders' records (HolderReport): per bucket a hash, the bucket's key + HELD_SUFFIX, mapping each holder's id to
 * 'room:expiry', its unused room as it last reported it and when the record expires (ms on Redis's clock, TIME). A lease
 * on the bucket first takes back the room of every expired holder (a holder killed without giving it back): the bucket
 * is lowered by it, when still there, and the record deleted. Defined once here, run by LEASE_LUA and RELEASE_LUA.
 */
const RECLAIM_LUA = `${HOLD_LUA}
local function reclaim(bucket, held, clock)
  local all = redis.call('HGETALL', held)
  for j = 1, #all, 2 do
    local room, expiry = string.match(all[j + 1], '^(-?%d+):(%d+)$')
    if all[j] ~= '${HELD_FIELD}' and (not expiry or tonumber(expiry) <= clock) then
      if room and tonumber(room) > 0 and redis.call('EXISTS', bucket) == 1 then
        redis.call('DECRBY', bucket, room)
        unhold(held, tonumber(room))
      end
      redis.call('HDEL', held, all[j])
    end
  end
end
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * CounterStore.lease in one atomic step, leaseGranted's rule in Lua. Per request i (1-based), three keys: the bucket, the
 * previous bucket (as RESERVE_LUA's line) and the bucket's holder records (HELD_SUFFIX); seven arguments: ARGV[7i-6] the
 * amount that must fit, ARGV[7i-5] the extra wanted, ARGV[7i-4] the limit, ARGV[7i-3] the previous bucket's weight,
 * ARGV[7i-2] the ttl in ms, ARGV[7i-1] the room the holder reports unused ('-1': no holder), ARGV[7i] what its calls used
 * of its room since it last reported (taken off the held figure, HELD_FIELD, where its record is still there; the grant
 * is added to it). Then the marker key last in
 * KEYS; the mode ('count' or 'check', as RESERVE_LUA), the holder's id and its record's ttl in ms last in ARGV.
 *
 * Expired holders' room is taken back first (RECLAIM_LUA). With a holder, its record becomes the room it reported, if its
 * record was still there (else the room was taken back: it reported room no longer its own), plus what is granted beyond
 * the amount (the amount is the asking call's, admitted at once), expiring the record's ttl from now.
 *
 * Returns per request the room granted, the bucket's value and the previous bucket's value ('0' when its weight is 0)
 * before it, and '1' or '0': whether the holder's reported room was still its own, as strings (the weighting redone in
 * JS, as for RESERVE_LUA), or { 'seed' } as RESERVE_LUA's 'check'.
 */
export const LEASE_LUA = `${RECLAIM_LUA}
local lines = (#KEYS - 1) / 3
local mode = ARGV[7 * lines + 1]
local holder = ARGV[7 * lines + 2]
local recordTtl = tonumber(ARGV[7 * lines + 3])
local out = {}
for i = 1, lines do
  local base = 7 * (i - 1)
  local key = KEYS[3 * i - 2]
  local held = KEYS[3 * i]
  local current = redis.call('GET', key)
  if not current then
    if mode == 'check' and redis.call('EXISTS', KEYS[#KEYS]) == 0 then return { 'seed' } end
  end
  reclaim(key, held, clock)
  current = redis.call('GET', key) or '0'
  local weight = tonumber(ARGV[base + 4])
  local previous = '0'
  if weight > 0 then previous = redis.call('GET', KEYS[3 * i - 1]) or '0' end
  local used = tonumber(current)
  if weight > 0 then used = used + tonumber(previous) * weight end
  local amount = tonumber(ARGV[base + 1])
  local room = tonumber(ARGV[base + 3]) - used
  local granted = 0
  local ttl = tonumber(ARGV[base + 5])
  if room >= amount then
    local extra = math.floor((room - amount) / ${LEASE_NEAR_DIVISOR})
    if extra > tonumber(ARGV[base + 2]) then extra = tonumber(ARGV[base + 2]) end
    if extra < 0 then extra = 0 end
    granted = amount + extra
    if granted > 0 then
      redis.call('INCRBY', key, granted)
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
      hold(held, granted, ttl)
    end
  end
  local kept = '1'
  local reported = tonumber(ARGV[base + 6])
  if reported >= 0 then
    local recorded = redis.call('HEXISTS', held, holder) == 1
    if recorded then unhold(held, tonumber(ARGV[base + 7])) end
    if reported > 0 and not recorded then
      kept = '0'
      reported = 0
    end
    local unused = reported
    if granted > 0 then unused = unused + granted - amount end
    redis.call('HSET', held, holder, tostring(unused) .. ':' .. tostring(clock + recordTtl))
    if redis.call('PTTL', held) < ttl then redis.call('PEXPIRE', held, ttl) end
  end
  out[4 * i - 3] = tostring(granted)
  out[4 * i - 2] = current
  out[4 * i - 1] = previous
  out[4 * i] = kept
end
return out
`;

/**
 * CounterStore.release: per line two keys, the bucket and its holder records (HELD_SUFFIX), and two arguments, the room
 * given back and what the holder's calls used of it unreported (HolderReport.settled); then the holder's id last in
 * ARGV. Only where the holder's record is still there is the bucket (when still there) lowered, its held figure with it
 * (by both), and the record deleted, so room already taken back (its record expired) is never given back twice.
 * Expired holders' room is taken back on the way, as by a lease. Returns the number of records released.
 */
export const RELEASE_LUA = `${RECLAIM_LUA}
local lines = #KEYS / 2
local holder = ARGV[2 * lines + 1]
local released = 0
for i = 1, lines do
  local key = KEYS[2 * i - 1]
  local held = KEYS[2 * i]
  reclaim(key, held, clock)
  if redis.call('HDEL', held, holder) == 1 then
    released = released + 1
    if redis.call('EXISTS', key) == 1 then
      redis.call('DECRBY', key, ARGV[2 * i - 1])
      unhold(held, tonumber(ARGV[2 * i - 1]) + tonumber(ARGV[2 * i]))
    end
  end
end
return released
`;

/** The commands defineCommand adds: no fixed key count, so the count goes first. */
export type ScriptCommand<Reply> = (numberOfKeys: number, ...keysThenArgs: string[]) => Promise<Reply>;
export const RESERVE_COMMAND = 'sluiceReserve';
export const SEED_COMMAND = 'sluiceSeed';
export const LEASE_COMMAND = 'sluiceLease';
export const RELEASE_COMMAND = 'sluiceRelease';
export type ReserveMode = 'count' | 'check' | 'settle';
export type Scripts = Record<typeof RESERVE_COMMAND | typeof LEASE_COMMAND, ScriptCommand<string[]>> &
  Record<typeof SEED_COMMAND | typeof RELEASE_COMMAND, ScriptCommand<number>>;
