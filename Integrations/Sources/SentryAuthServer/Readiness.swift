import Foundation
import SentryAuth
import SentryAuthPostgres
import SentryAuthRedis

/// What `/ready` checks: whether this instance can decide requests now, each part with a reason.
struct Readiness: Sendable {
    /// One part of the answer.
    struct Check: Sendable {
        var name: String
        var isReady: Bool
        var reason: String
    }

    /// The checks, run on each request to `/ready`.
    var checks: [@Sendable () async -> Check] = []

    /// The key store: PostgreSQL answers, or the cache holds keys it can serve through an outage.
    static func postgres(_ store: PostgresKeyStore, cache: CachedKeyStore) -> @Sendable () async -> Check {
        {
            if await store.isReachable() { return Check(name: "keys", isReady: true, reason: "PostgreSQL answers") }
            let cached = cache.count
            return cached > 0
                ? Check(
                    name: "keys", isReady: true,
                    reason: "PostgreSQL does not answer; \(cached) cached entries are served for up to 10 s")
                : Check(name: "keys", isReady: false, reason: "PostgreSQL does not answer and nothing is cached")
        }
    }

    /// The change feed listens: otherwise every look-up asks PostgreSQL.
    static func feed(_ feed: PostgresKeyChangeFeed) -> @Sendable () async -> Check {
        {
            feed.isListening
                ? Check(name: "feed", isReady: true, reason: "listening for key changes")
                : Check(
                    name: "feed", isReady: false,
                    reason: "not listening for key changes; every look-up asks PostgreSQL until it does")
        }
    }

    /// A key store file can be read.
    static func file(_ store: FileKeyStore) -> @Sendable () async -> Check {
        {
            do {
                _ = try store.allRecords()
                return Check(name: "keys", isReady: true, reason: "the key store file can be read")
            } catch {
                return Check(name: "keys", isReady: false, reason: "the key store file cannot be read")
            }
        }
    }

    /// Redis answers, or the fallback decides per instance (ready); with `refuse`, not ready while down.
    static func redis(_ store: RedisRateLimitStore) -> @Sendable () async -> Check {
        {
            guard store.isUsingFallback, await !store.isReachable() else {
                return Check(name: "rate_limits", isReady: true, reason: "Redis answers")
            }
            return store.whenUnavailable == .useLocalLimiter
                ? Check(
                    name: "rate_limits", isReady: true,
                    reason: "Redis does not answer; each instance limits from Redis's last answer")
                : Check(
                    name: "rate_limits", isReady: false, reason: "Redis does not answer; rate-limited requests get 503")
        }
    }

    /// Runs every check: whether all are ready, and the JSON answer.
    func evaluate() async -> (isReady: Bool, body: Data) {
        var results: [Check] = []
        for check in checks { results.append(await check()) }
        let ready = results.allSatisfy(\.isReady)
        var object: [String: Any] = ["ready": ready]
        for result in results { object[result.name] = ["ready": result.isReady, "reason": result.reason] }
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return (ready, body)
    }
}
