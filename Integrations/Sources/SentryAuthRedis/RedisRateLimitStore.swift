public import CoreMetrics
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
public import SentryAuth
import SentryAuthEngineSupport
public import ServiceLifecycle
import Synchronization

/// A ``RateLimitStore`` in Redis, shared by every server instance: the exact sliding window runs
/// atomically in Redis as one Lua script, on Redis's clock, so N instances give a key its limit —
/// not N times it — even when their clocks disagree.
///
/// ```swift
/// let limits = RedisRateLimitStore(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379"))
/// let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: limits)
/// ```
///
/// The semantics are those of the in-process ``SlidingWindowLimiter``: never more than the limit in
/// any window, the cost, `remaining`, the reset and `Retry-After` (rounded up) computed the same way
/// (see `SlidingWindowScript`). The `instant` passed to ``acquire(_:cost:limit:at:)`` is not used
/// while Redis answers: Redis's `TIME` is the clock.
///
/// **When Redis is down** — a refused connection, a timeout, a closed connection, an error reply
/// such as `LOADING` while it restarts — the store does
/// what ``whenUnavailable`` says:
/// - ``Unavailability/useLocalLimiter`` (the default): each instance decides with its own exact
///   limiter, *starting from Redis's last answer*: every script run returns how many units the key's
///   window holds and Redis's time (and, once a second per key, their stamps in up to 8 groups), and
///   the newest answer per key is kept
///   (`FallbackWindows`), so a stall never opens a fresh window and `remaining` stays truthful. It
///   logs a warning once, counts every such decision in `sentry_auth_rate_limit_fallback_total`
///   (``fallbackActiveMetricLabel`` is 1 meanwhile), and asks Redis again after ``retryInterval``;
///   when Redis answers, the admissions made locally are written back into its window with the
///   key's next run, and all at once for the others (each under a member name of its own, so a unit
///   sent twice counts once). An instance admits at most what its newest answer left plus what
///   leaves the window meanwhile; after Redis loses its data, a key gets at most twice its limit in
///   that window.
/// - ``Unavailability/refuse``: the error is thrown, and ``RequestGate`` answers 503
///   `SERVICE_UNAVAILABLE` with `Retry-After`.
///
/// Each API key has one Redis key, `PREFIX:{KEY-ID}:window` (a sorted set; the braces are a hash tag,
/// the slot it lives in on a cluster), which expires one window after the key's last admission.
/// (Earlier versions also kept a counter, `PREFIX:{KEY-ID}:sequence`; it expires on its own.)
///
/// **A Redis Cluster** needs nothing more than the URL of any of its nodes: on its first request
/// the store asks that node `CLUSTER SLOTS`, and, if it is a cluster, sends each script run to the
/// master of its key's hash slot, follows `MOVED` and `ASK` redirections, retries `TRYAGAIN`, and
/// reads the slot map again after a change, every 5 s, and after a master stops answering (until its
/// replica is elected, the fallback above decides for the keys in its slots). A stand-alone server
/// is used as it always was.
public final class RedisRateLimitStore: RateLimitStore, Service, Sendable {
    /// What the store does when Redis does not answer.
    public enum Unavailability: Sendable, Hashable {
        /// Decide with an in-process exact limiter per instance until Redis answers again.
        case useLocalLimiter
        /// Throw, so the gate answers 503.
        case refuse
    }

    /// The label of the counter of decisions made without Redis.
    public static let fallbackMetricLabel = "sentry_auth_rate_limit_fallback_total"
    /// The label of a gauge, 1 while decisions are made without Redis, 0 while Redis decides.
    public static let fallbackActiveMetricLabel = "sentry_auth_rate_limit_fallback_active"
    /// The labels of the time of each script run (a timer), and of the runs that failed, with a
    /// `kind` dimension: `timeout`, `unavailable` or `reply`.
    public static let durationMetricLabel = "sentry_auth_redis_call_duration"
    /// See ``durationMetricLabel``.
    public static let errorMetricLabel = "sentry_auth_redis_errors_total"

    /// The Lua script the store runs (`EVALSHA`), for operators and benchmarks: `KEYS` the window's
    /// sorted set, `ARGV` the limit, the window in milliseconds and the cost; it returns
    /// `{allowed, remaining, reset in ms, …}`.
    public static var script: String { SlidingWindowScript.source }

    /// What happens when Redis is down.
    public let whenUnavailable: Unavailability
    /// How long, after Redis fails, decisions go straight to the fallback before Redis is asked again.
    public let retryInterval: Duration
    /// The prefix of every Redis key the store writes.
    public let keyPrefix: String

    private let client: RedisClient
    /// The number of the last unit this store admitted, counted from a random start below 2⁵², so
    /// that units stay below 2⁵³ (exact in Lua's numbers) and two stores' numbers do not meet.
    private let units = Atomic<UInt64>(UInt64.random(in: 0..<(1 << 52)))
    private let eventLoopGroup: any EventLoopGroup
    private let local: FallbackWindows
    /// Redis's clock minus this instance's, in milliseconds, from the last answer.
    private let clockOffset = NIOLockedValueBox<Int64?>(nil)
    private let logger: Logger
    private let fallbackCounter: Counter
    private let fallbackGauge: Gauge
    private let metrics: EngineMetrics
    private let scriptSHA = NIOLockedValueBox<String?>(nil)
    /// While set and in the future, Redis is skipped.
    private let skipRedisUntil = NIOLockedValueBox<NIODeadline?>(nil)

    /// Creates a store. No connection is made until the first request.
    ///
    /// - Parameters:
    ///   - configuration: Where Redis is.
    ///   - whenUnavailable: What to do when Redis is down; ``Unavailability/useLocalLimiter`` by default.
    ///   - retryInterval: See ``retryInterval``; 1 s by default.
    ///   - keyPrefix: The prefix of the store's Redis keys; `sentry-auth` by default.
    ///   - logger: Where the fallback's warnings go.
    ///   - metricsFactory: Where the fallback counter comes from.
    ///   - eventLoopGroup: The event loops of the connections.
    public init(
        configuration: RedisConfiguration, whenUnavailable: Unavailability = .useLocalLimiter,
        retryInterval: Duration = .seconds(1), keyPrefix: String = "sentry-auth",
        logger: Logger = Logger(label: "SentryAuthRedis"), metricsFactory: any MetricsFactory = MetricsSystem.factory,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.whenUnavailable = whenUnavailable
        self.retryInterval = retryInterval
        self.keyPrefix = keyPrefix
        self.client = RedisClient(configuration: configuration, group: eventLoopGroup)
        self.eventLoopGroup = eventLoopGroup
        self.local = FallbackWindows(instance: Self.instanceName())
        self.logger = logger
        self.fallbackCounter = Counter(label: Self.fallbackMetricLabel, factory: metricsFactory)
        self.fallbackGauge = Gauge(label: Self.fallbackActiveMetricLabel, factory: metricsFactory)
        self.metrics = EngineMetrics(
            duration: Self.durationMetricLabel, errors: Self.errorMetricLabel,
            kinds: ["timeout", "unavailable", "reply"],
            factory: metricsFactory)
        fallbackGauge.record(0)
    }

    /// Whether decisions are currently made without Redis (after a failure, until Redis answers).
    public var isUsingFallback: Bool {
        skipRedisUntil.withLockedValue { $0 != nil }
    }

    /// Admits a request if the key's window in Redis has room, consuming `cost` if it does.
    ///
    /// - Parameters:
    ///   - key: Whose quota to spend.
    ///   - cost: 0 (report only) to `limit.limit`.
    ///   - limit: The key's limit.
    ///   - instant: Used only by the in-process fallback; Redis reads its own clock.
    /// - Returns: The decision.
    /// - Throws: ``RateLimitError/invalidCost(cost:limit:)``; with ``Unavailability/refuse``, a
    ///   ``RedisError`` when Redis does not answer.
    public func acquire(_ key: APIKeyID, cost: Int, limit: RateLimit, at instant: MonotonicInstant) async throws
        -> RateLimitDecision
    {
        guard (0...limit.limit).contains(cost) else { throw RateLimitError.invalidCost(cost: cost, limit: limit.limit) }
        let now = Self.milliseconds(instant)
        let skipping = skipRedisUntil.withLockedValue { until in until.map { $0 > .now() } ?? false }
        if !skipping {
            let start = ContinuousClock.now
            do {
                let decision = try await acquireInRedis(key, cost: cost, limit: limit, at: now)
                metrics.record(ContinuousClock.now - start)
                let recovered = skipRedisUntil.withLockedValue { until in
                    defer { until = nil }
                    return until != nil
                }
                if recovered {
                    fallbackGauge.record(0)
                    logger.notice("SentryAuth: Redis answers again; the shared rate limit applies")
                    Task { [self] in await writeBack(at: now) }
                }
                return decision
            } catch let error as CancellationError {
                throw error
            } catch {
                metrics.record(ContinuousClock.now - start)
                metrics.count((error as? RedisError)?.metricKind ?? "unavailable")
                let entering = skipRedisUntil.withLockedValue { until in
                    defer { until = .now() + TimeAmount(retryInterval) }
                    return until == nil
                }
                guard whenUnavailable == .useLocalLimiter else { throw error }
                if entering {
                    fallbackGauge.record(1)
                    logger.warning(
                        "SentryAuth: Redis is unavailable; each key's limit goes on from Redis's last answer, per instance, until it answers",
                        metadata: ["sentry_auth.error": "\(error)"])
                }
            }
        } else if whenUnavailable == .refuse {
            throw RedisError.unavailable("failed less than \(retryInterval) ago")
        }
        fallbackCounter.increment()
        return local.acquire(key, cost: cost, limit: limit, at: now)
    }

    /// Sends every key's local admissions to Redis (each with a report-only script run), once Redis
    /// answers again; a key whose run fails keeps them for its next request.
    private func writeBack(at now: Int64) async {
        for (key, limit) in local.pendingKeys {
            do {
                _ = try await acquireInRedis(key, cost: 0, limit: limit, at: now)
            } catch {
                return
            }
        }
    }

    /// The cluster redirections the store's client has followed, for tests.
    var clusterRedirections: RedisClient.Redirections { client.redirections }

    /// How many keys have local admissions not yet written to Redis, for tests and `/ready`.
    var keysAwaitingWriteBack: Int { local.pendingKeys.count }

    static func milliseconds(_ instant: MonotonicInstant) -> Int64 {
        Int64(truncatingIfNeeded: instant.nanoseconds / 1_000_000)
    }

    /// A name no other store shares: the prefix of the members this store writes back.
    private static func instanceName() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 36)
    }

    /// Forgets a key's state in Redis and in the fallback.
    ///
    /// - Parameter key: The key.
    /// - Throws: A ``RedisError`` when Redis does not answer.
    public func remove(_ key: APIKeyID) async throws {
        local.remove(key)
        let window = redisKey(for: key)
        // The counter of earlier versions too: both in the key's slot.
        _ = try await client.send(RESPCommand("DEL", window, "\(keyPrefix):{\(key.rawValue)}:sequence"), key: window)
    }

    /// Closes the connections. Later requests fail (or fall back).
    public func shutdown() async {
        await client.shutdown()
    }

    /// Whether Redis (in a cluster, every master) answers `PING` within the command timeout: what
    /// `/ready` asks while the store falls back (the store itself asks Redis again only with a
    /// request, after ``retryInterval``).
    public func isReachable() async -> Bool {
        await client.pingEveryMaster()
    }

    /// Connects and sends `PING` (to every master, in a cluster): what a server runs at start-up, so
    /// that a configuration that cannot work stops it with the reason instead of running on the
    /// fallback.
    ///
    /// - Returns: Whether Redis answered; `false` when it is down or unreachable (the store falls
    ///   back until it answers).
    /// - Throws: ``RedisError`` for what no retry mends: TLS (a certificate that does not verify or
    ///   does not name the host, an unreadable CA file, a server without TLS) or credentials
    ///   (`WRONGPASS`, `NOAUTH`).
    public func checkConnection() async throws(RedisError) -> Bool {
        // Its own connections, with 2 s to connect and answer: a start-up on a busy machine must not
        // read a slow handshake as a broken configuration, nor leave the store's slots backing off.
        var configuration = client.configuration
        configuration.connectTimeout = max(configuration.connectTimeout, .seconds(2))
        configuration.commandTimeout = max(configuration.commandTimeout, .seconds(2))
        let checking = RedisClient(configuration: configuration, group: eventLoopGroup)
        defer { Task { await checking.shutdown() } }
        do {
            _ = try await checking.send(RESPCommand("PING"), key: nil)
            return await checking.pingEveryMaster()
        } catch let error as RedisError where error.isConfigurationError {
            throw error
        } catch let error as RedisError where error.serverMessage?.hasPrefix("NOAUTH") == true {
            throw .authentication(error.serverMessage ?? "NOAUTH")
        } catch {
            return false
        }
    }

    /// Runs until a graceful shutdown (or cancellation) under swift-service-lifecycle, then closes the
    /// connections: put the store in the server's `ServiceGroup` before the services that use it (a
    /// group shuts down in reverse order), so that it closes after them.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// The store's Redis key for an API key's window, hash-tagged by its ID.
    func redisKey(for key: APIKeyID) -> String {
        "\(keyPrefix):{\(key.rawValue)}:window"
    }

    /// One script run: `EVALSHA`, loading the script first if this store has not yet, and `EVAL` when
    /// Redis has lost it (`NOSCRIPT`, after a restart or `SCRIPT FLUSH`). The key's local admissions
    /// not yet in Redis go with it, and what Redis answers about the window is remembered for the
    /// fallback. `now` is this instance's time in milliseconds; `microseconds` replaces Redis's clock,
    /// for tests that replay a trace.
    func acquireInRedis(
        _ key: APIKeyID, cost: Int, limit: RateLimit, at now: Int64 = 0, microseconds: UInt64? = nil
    ) async throws -> RateLimitDecision {
        let window = redisKey(for: key)
        let milliseconds =
            limit.window.components.seconds * 1000 + limit.window.components.attoseconds / 1_000_000_000_000_000
        var arguments = [window, String(limit.limit), String(milliseconds), String(cost)]
        arguments.append(microseconds.map { String($0) } ?? "")
        let wantsStamps = microseconds == nil && local.wantsStamps(key, limit: limit, at: now)
        arguments.append(wantsStamps ? "1" : "0")
        // The number of this admission's first unit: the script adds units FIRST … FIRST + cost − 1.
        arguments.append(String(units.add(UInt64(cost), ordering: .relaxed).newValue - UInt64(cost) + 1))
        // Local admissions go back only once Redis's clock is known (to place them in its window).
        let knownOffset = clockOffset.withLockedValue { $0 }
        let pending = knownOffset == nil ? [] : local.pending(key)
        if let offset = knownOffset {
            for unit in pending {
                arguments.append(String(unit.stamp + offset))
                arguments.append("\(local.instance):\(unit.sequence)")
            }
        }
        let sha: String
        if let known = scriptSHA.withLockedValue({ $0 }) {
            sha = known
        } else {
            guard
                let loaded = try await client.send(
                    RESPCommand("SCRIPT", "LOAD", SlidingWindowScript.source), key: window
                ).string
            else { throw RedisError.unexpectedReply("the script's SHA-1") }
            scriptSHA.withLockedValue { $0 = loaded }
            sha = loaded
        }
        let reply: RESPValue
        do {
            reply = try await client.send(RESPCommand(arguments: ["EVALSHA", sha, "1"] + arguments), key: window)
        } catch let error as RedisError where error.isNoScript {
            reply = try await client.send(
                RESPCommand(arguments: ["EVAL", SlidingWindowScript.source, "1"] + arguments), key: window)
        }
        guard case .array(let values?) = reply, values.count >= 5, let allowed = values[0].integer,
            let remaining = values[1].integer, let reset = values[2].integer, let redisNow = values[3].integer,
            let used = values[4].integer, values.count == (wantsStamps ? 5 + min(8, Int(used)) : 5)
        else { throw RedisError.unexpectedReply("the sliding-window script's decision and window") }
        let stamps = values.dropFirst(5).compactMap(\.integer)
        if microseconds == nil {
            let offset = redisNow - now
            clockOffset.withLockedValue { $0 = offset }
            local.remember(
                key, limit: limit, used: Int(used), stamps: wantsStamps ? stamps : nil, redisNow: redisNow, at: now,
                written: pending)
        }
        return RateLimitDecision(
            isAllowed: allowed == 1, limit: limit, remaining: Int(remaining), resetAfter: .milliseconds(reset))
    }
}
