/**
 * Rate windows in Redis (REDIS_URL), shared by every process that points at it:
 * per key a sorted set of admission times scored in ms, updated by one Lua
 * script — atomic on the server and timed by Redis's own clock (TIME), so hosts
 * with skewed clocks agree. The script is RateWindow's algorithm in Lua; the
 * contract suite (test/management/rateStore.test.ts) holds both to one behaviour.
 */
import { RedisClient } from "bun";
import { Effect } from "effect";
import { RateStoreError, type RateStoreShape } from "./rateStore.ts";

// KEYS[1]: the key's log (zset: member = sequence number, score = ms); KEYS[2]: its sequence.
// ARGV: burst window ms, burst, per minute, per hour, count[, now ms (tests)]. Returns per request
// {ok, limit, remaining, resetSec, retryAfterMs}, as RateWindow.admit does.
const SCRIPT = `
local log, seq = KEYS[1], KEYS[2]
local now = tonumber(ARGV[6])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local last = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) > now then now = tonumber(last[2]) end
local wms = { tonumber(ARGV[1]), 60000, 3600000 }
local lim = { tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]) }
-- as RateWindow: an hour the minute window already bounds is left out (hourImplied)
local nw = 3
if lim[3] >= 60 * lim[2] then nw = 2 end
local horizon = math.max(wms[1], wms[2])
if nw == 3 then horizon = math.max(horizon, wms[3]) end
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - horizon)
local score = function(i) return tonumber(redis.call('ZRANGE', log, i, i, 'WITHSCORES')[2]) end
local out = {}
for i = 1, tonumber(ARGV[5]) do
  local n = redis.call('ZCARD', log)
  local retry = 0
  local stats = {}
  for w = 1, nw do
    local inWin = redis.call('ZCOUNT', log, '(' .. (now - wms[w]), '+inf')
    if inWin >= lim[w] then retry = math.max(retry, score(n - lim[w]) + wms[w] - now) end
    local oldest = now
    if inWin > 0 then oldest = score(n - inWin) end
    stats[w] = { lim[w], inWin, oldest + wms[w] - now }
  end
  local ok = retry == 0
  if ok then
    redis.call('ZADD', log, now, redis.call('INCR', seq))
    for w = 1, nw do stats[w][2] = stats[w][2] + 1 end
  end
  local tight = stats[1]
  for w = 2, nw do if stats[w][1] - stats[w][2] < tight[1] - tight[2] then tight = stats[w] end end
  out[i] = { ok and 1 or 0, tight[1], math.max(0, tight[1] - tight[2]), math.max(0, math.ceil(tight[3] / 1000)), ok and 0 or math.max(1, retry) }
end
redis.call('PEXPIRE', log, horizon)
redis.call('PEXPIRE', seq, horizon)
return out
`;
const SHA = new Bun.CryptoHasher("sha1").update(SCRIPT).digest("hex");

/** Where a Redis store keeps its keys, and (tests) a clock replacing Redis TIME. */
export interface RedisRateOptions {
  prefix?: string;
  now?: () => number;
}

/** A store of windows in the Redis at `url`; keys are `<prefix>{<keyId>}` (one hash slot per key). */
export function makeRedisRateStore(url: string, { prefix = "dzx:rate:", now }: RedisRateOptions = {}): RateStoreShape {
  // Commands fail at once while disconnected instead of queueing behind an outage (the
  // fallback answers meanwhile); reconnecting is ours, on the next admission the fallback lets through.
  const client = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: 2_000 });
  let connecting: Promise<void> | undefined;
  const connected = () => (client.connected ? Promise.resolve() : (connecting ??= client.connect().finally(() => (connecting = undefined))));
  const fail = (cause: unknown) => new RateStoreError({ backend: "redis", cause });

  const evaluate = async (keys: string[], args: string[]): Promise<number[][]> => {
    await connected();
    const argv = [String(keys.length), ...keys, ...args];
    try {
      return await client.send("EVALSHA", [SHA, ...argv]);
    } catch (e) {
      // first use on this server (or after SCRIPT FLUSH): send the body, which also caches it
      if (!String((e as Error)?.message).startsWith("NOSCRIPT")) throw e;
      return await client.send("EVAL", [SCRIPT, ...argv]);
    }
  };

  return {
    backend: "redis",
    admit: (keyId, rate, count) =>
      Effect.tryPromise({
        try: async () => {
          const log = `${prefix}{${keyId}}`;
          const rows = await evaluate([log, `${log}:seq`], [String(rate.burstWindowSec * 1000), String(rate.burst), String(rate.perMinute), String(rate.perHour), String(count), ...(now ? [String(now())] : [])]);
          return rows.map(([ok, limit, remaining, resetSec, retryAfterMs]) => ({ ok: ok === 1, limit, remaining, resetSec, retryAfterMs }));
        },
        catch: fail,
      }),
    // keys expire on their own once idle past the widest window
    prune: Effect.void,
    close: Effect.sync(() => client.close()),
  };
}
