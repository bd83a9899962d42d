// The token bucket's Lua scripts. Each runs atomically inside Redis and reads the time from the
// Redis server (TIME), so callers' clocks never matter.
//
// One hash per API key holds the bucket:
//   tokens       permits in hand (may be negative: permits reserved for the near future)
//   ts           server time (µs) of the last refill
//   pausedUntil  server time (µs) until which a 429 pauses every sharer
//   seq          counts 429 pauses; a reservation made under an older seq is void
// A missing hash is a full bucket (or an empty one after a fallback, see `initial`).

import { LuaScript } from "./connection.ts";

const PRELUDE = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'pausedUntil', 'seq')
local tokens = tonumber(s[1])
local ts = tonumber(s[2]) or now
local pausedUntil = tonumber(s[3]) or 0
local seq = tonumber(s[4]) or 0
local per = 1000000 / rate
local function refill()
  if now > ts then
    tokens = math.min(burst, tokens + (now - ts) / per)
    ts = now
  end
end
local function save()
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts),
    'pausedUntil', string.format('%.17g', pausedUntil), 'seq', seq)
  -- Keep the hash only while it differs from a full bucket (plus a second): idle keys vanish.
  local busy = math.max(0, (burst - tokens) * per) + math.max(0, pausedUntil - now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(busy / 1000) + 1000)
end
`;

/**
 * ARGV: rate, burst, n (permits wanted), horizon (µs), initial tokens: for a missing hash, and
 * at most what a kept one holds (0 after an outage: a bucket Redis kept while it hung refilled
 * as if nobody had sent, while every sharer went on at its local share of the rate).
 * Grants permits in arrival order, each now or at a reserved moment no further than `horizon`
 * ahead. Returns {granted, pausedUs, retryUs, seq, delayUs...}: pausedUs > 0 when a 429 pause is
 * on (nothing granted); retryUs: when the next permit comes within the horizon (if not all granted).
 */
export const ACQUIRE = new LuaScript(`${PRELUDE}
local missing = tokens == nil
tokens = tokens or tonumber(ARGV[5])
if pausedUntil > now then return {0, pausedUntil - now, 0, seq} end
refill()
local kept = tokens
tokens = math.min(tokens, tonumber(ARGV[5]))
local n = tonumber(ARGV[3])
local horizon = tonumber(ARGV[4])
local out = {0, 0, 0, seq}
local granted = 0
while granted < n do
  local wait = 0
  if tokens < 1 then wait = math.ceil((1 - tokens) * per) end
  if wait > horizon then
    out[3] = wait - horizon
    break
  end
  tokens = tokens - 1
  granted = granted + 1
  out[4 + granted] = wait
end
out[1] = granted
-- Saved also when nothing was granted but a cold start emptied a kept bucket or created a
-- missing one below full (its first permit lies past the horizon: a slow rate).
if granted > 0 or tokens < kept or (missing and tokens < burst) then save() end
return out
`);

/**
 * ARGV: rate, burst, pause (ms). A 429: pause every sharer until now + pause (never shortening a
 * pause in progress), void every reservation (seq + 1), and restart gently with at most one permit.
 * Returns {pausedUs, seq}.
 */
export const BACK_OFF = new LuaScript(`${PRELUDE}
tokens = tokens or burst
refill()
local untilUs = now + tonumber(ARGV[3]) * 1000
if untilUs > pausedUntil then pausedUntil = untilUs end
seq = seq + 1
tokens = math.min(math.max(tokens, 0), 1)
ts = math.max(ts, pausedUntil)
save()
return {pausedUntil - now, seq}
`);

/** ARGV: rate, burst. Returns {seq, pausedUs}: a reservation is honoured when seq is unchanged. */
export const CONFIRM = new LuaScript(`${PRELUDE}
return {seq, math.max(0, pausedUntil - now)}
`);

/**
 * ARGV: rate, burst, count, seq. Gives back `count` reserved permits (their waiters aborted), unless
 * a 429 has voided those reservations since (seq changed). Returns 1 when refunded.
 */
export const REFUND = new LuaScript(`${PRELUDE}
if tokens == nil or seq ~= tonumber(ARGV[4]) then return 0 end
refill()
tokens = math.min(burst, tokens + tonumber(ARGV[3]))
save()
return 1
`);
