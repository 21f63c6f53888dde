/// The exact sliding window as one Lua script, run atomically by Redis (`EVALSHA`).
///
/// The same rule as the in-process ``SlidingWindowLimiter``, on Redis's clock: a sorted set holds one
/// member per admitted unit of cost, scored by its admission time in milliseconds. Cost *c* at time
/// *t* is admitted exactly when at most `limit − c` units lie in (*t* − window, *t*]. Times are read
/// with `TIME` (microseconds), rounded down for checking and up for storing; a stored time never
/// goes below the newest one already stored, so the set stays ordered if Redis's clock steps back.
///
/// - `KEYS[1]`: the sorted set, the only key: it carries the key ID as a hash tag, so a cluster
///   serves it from one slot, and a slot in migration never holds half of a key's state (a script
///   over two keys gets `TRYAGAIN` until the slot has moved). It expires one window after the newest
///   admission, so an idle key costs nothing.
/// - `ARGV`: limit, window (ms), cost (0 to limit; 0 only reports); then, optionally, the time in
///   microseconds or an empty string (tests alone pass a time, to replay a recorded trace; with it
///   the script sets no expiry, since the trace's time is not Redis's), `1` to ask for the window's
///   stamps (below) or anything else not to, the *number* of this admission's first unit or an
///   empty string, and any number of *write-back* pairs `STAMP MEMBER`: admissions an instance made
///   on its own while Redis did not answer, added to the window (at their time, in Redis's
///   milliseconds) before deciding. A write-back member names its instance and unit
///   (`INSTANCE:UNIT`), so a pair sent twice is added once; a stamp already out of the window is
///   skipped.
/// - Members: an admission of cost *c* whose first unit is *u* adds the members *u* … *u* + *c* − 1,
///   as decimal integers (below 2⁵³, exact in Lua's numbers), which Redis stores as integers: 1,384
///   bytes for a full window of 60, against 2,664 for names of 23 characters. Each store counts its
///   units from a random start below 2⁵², so two instances' units do not meet in practice. Without a
///   number (`redis-benchmark`'s three arguments) the first unit is Redis's time in microseconds.
/// - Returns `{allowed (1 or 0), remaining, reset (ms), now (ms), used[, s1, …, sk]}`: reset is the
///   wait until enough quota frees up when refused, the time until the oldest admission leaves the
///   window when allowed, never more than the window (a time stored in `now`'s millisecond, rounded
///   up, would otherwise read as window + 1 ms: `Reset: 61` for a 60 s window). `used` is how many
///   units the window holds after the decision, and, when asked for, `s1 … sk` (k ≤ 8) the stamps of the units at
///   ranks ⌈i·used/k⌉ − 1, oldest first: what an instance remembers, so that when Redis stops
///   answering its own limiter starts from Redis's window — exact up to 8 units, and never freeing a
///   unit earlier than Redis would beyond that (each group of ranks frees with its newest member).
enum SlidingWindowScript {
    static let source = """
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local replaying = ARGV[4] ~= nil and ARGV[4] ~= ''
        local micros
        if replaying then
          micros = tonumber(ARGV[4])
        else
          local clock = redis.call('TIME')
          micros = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        end
        local now = math.floor(micros / 1000)
        local stamp = math.floor((micros + 999) / 1000)
        local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        if newest[2] then stamp = math.max(stamp, tonumber(newest[2])) end
        local wantsWindow = ARGV[5] == '1'
        local first = tonumber(ARGV[6]) or micros
        local written = 0
        for i = 7, #ARGV - 1, 2 do
          local at = tonumber(ARGV[i])
          if at > now - window then
            redis.call('ZADD', KEYS[1], string.format('%d', math.min(at, stamp)), ARGV[i + 1])
            written = written + 1
          end
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
        local used = redis.call('ZCARD', KEYS[1])
        local function snapshot(reply)
          reply[#reply + 1] = now
          reply[#reply + 1] = used
          if not wantsWindow then return reply end
          local groups = math.min(8, used)
          for i = 1, groups do
            local rank = math.ceil(i * used / groups) - 1
            local member = redis.call('ZRANGE', KEYS[1], rank, rank, 'WITHSCORES')
            reply[#reply + 1] = tonumber(member[2])
          end
          return reply
        end
        if written > 0 and not replaying then
          redis.call('PEXPIRE', KEYS[1], string.format('%d', stamp - now + window))
        end
        if cost > 0 and used + cost > limit then
          local k = used + cost - limit - 1
          local blocking = redis.call('ZRANGE', KEYS[1], k, k, 'WITHSCORES')
          return snapshot({0, math.max(0, limit - used), math.min(window, tonumber(blocking[2]) + window - now)})
        end
        if cost > 0 then
          local batch = {}
          for unit = 1, cost do
            batch[#batch + 1] = string.format('%d', stamp)
            batch[#batch + 1] = string.format('%d', first + unit - 1)
            if #batch >= 1000 then
              redis.call('ZADD', KEYS[1], unpack(batch))
              batch = {}
            end
          end
          if #batch > 0 then redis.call('ZADD', KEYS[1], unpack(batch)) end
          used = used + cost
          if not replaying then
            redis.call('PEXPIRE', KEYS[1], string.format('%d', stamp - now + window))
          end
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        local reset = 0
        if oldest[2] then reset = math.min(window, math.max(0, tonumber(oldest[2]) + window - now)) end
        return snapshot({1, math.max(0, limit - used), reset})
        """
}
