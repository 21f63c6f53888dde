public import CoreMetrics
public import Logging
import PostgresNIO
public import SentryAuth
public import ServiceLifecycle
import SentryAuthEngineSupport
import Synchronization

/// Keeps a ``CachedKeyStore`` true to PostgreSQL: listens on ``PostgresKeyStore/notificationChannel``
/// and drops each changed key from the cache as its change commits, on every instance at once.
///
/// ```swift
/// let feed = PostgresKeyChangeFeed(url: url, cache: keys)
/// // run `feed.run()` beside the server: a swift-service-lifecycle `Service`
/// ```
///
/// It holds one dedicated connection (not one of the pool's). Whenever it is not listening — before
/// it first listens, and from the moment that connection drops until it listens again — the cache
/// trusts nothing: ``CachedKeyStore/unconfirmAll()`` makes every look-up ask the database (the
/// answers are cached unconfirmed too), so a revocation committed meanwhile is seen by the next
/// request, and an entry is served only if the database fails too, within its freshness — cached
/// keys keep working through an outage for that long instead of all turning into 503s at once. The
/// feed reconnects with jittered backoff (from ``reconnectDelay``, doubling to
/// ``maximumReconnectDelay``) and, once it listens again, empties the cache and trusts it again
/// (``CachedKeyStore/resumeConfirming()``): changes made while it was not listening were not
/// announced to it.
public final class PostgresKeyChangeFeed: Service, Sendable {
    /// The cache kept true.
    public let cache: CachedKeyStore
    /// The first wait before reconnecting.
    public let reconnectDelay: Duration
    /// The longest wait between connection attempts.
    public let maximumReconnectDelay: Duration

    private var backoff: Backoff { Backoff(initial: reconnectDelay, maximum: maximumReconnectDelay) }
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let listening = Atomic<Bool>(false)
    private let listeningGauge: Gauge
    private let reconnects: Counter

    /// The labels of the feed's metrics: a gauge, 1 while it listens and 0 while it does not, and a
    /// counter of the times it started listening again after losing its connection.
    public static let listeningMetricLabel = "sentry_auth_postgres_feed_listening"
    /// See ``listeningMetricLabel``.
    public static let reconnectMetricLabel = "sentry_auth_postgres_feed_reconnects_total"
    private let received = Atomic<Int>(0)
    private let connections = Atomic<Int>(0)

    /// Creates a feed.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - cache: The cache to keep true.
    ///   - reconnectDelay: The first wait before reconnecting; 100 ms by default.
    ///   - maximumReconnectDelay: The longest wait; 5 s by default.
    ///   - logger: Where connection changes are logged.
    ///   - metricsFactory: Where the feed's gauge and counter come from (see ``listeningMetricLabel``).
    public init(
        url: PostgresURL, cache: CachedKeyStore, reconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(5), logger: Logger = Logger(label: "SentryAuthPostgres.feed"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.listeningGauge = Gauge(label: Self.listeningMetricLabel, factory: metricsFactory)
        self.reconnects = Counter(label: Self.reconnectMetricLabel, factory: metricsFactory)
        listeningGauge.record(0)
        self.configuration = url.connectionConfiguration
        self.cache = cache
        // Until the feed first listens, changes go unannounced: nothing is served as confirmed.
        cache.unconfirmAll()
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.logger = logger
    }

    /// Whether the feed is listening now.
    public var isListening: Bool { listening.load(ordering: .acquiring) }

    /// How many notifications the feed has received.
    public var notificationsReceived: Int { received.load(ordering: .relaxed) }

    /// How many times the feed has started listening (1 plus the reconnections).
    public var listenCount: Int { connections.load(ordering: .acquiring) }

    /// Listens until the task is cancelled (or, under swift-service-lifecycle, shut down gracefully),
    /// reconnecting whenever the connection drops.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await listenForever()
        } onGracefulShutdown: {
            // Cancelling the connect or the notification wait ends `listenForever`.
        }
    }

    private func listenForever() async {
        var failures = 0
        var connectionID = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            connectionID += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: connectionID, logger: logger)
                do {
                    try await connection.listen(on: PostgresKeyStore.notificationChannel) { notifications in
                        // Listening now: whatever changed before this instant was not announced to us.
                        cache.resumeConfirming()
                        listening.store(true, ordering: .releasing)
                        listeningGauge.record(1)
                        if connections.add(1, ordering: .acquiringAndReleasing).newValue > 1 { reconnects.increment() }
                        if failures > 0 { logger.notice("SentryAuth: listening for key changes again") }
                        failures = 0
                        for try await notification in notifications.cancelOnGracefulShutdown() {
                            received.add(1, ordering: .relaxed)
                            apply(notification.payload)
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if !Task.isCancelled && !Task.isShuttingDownGracefully {
                    failures += 1
                    if failures == 1 {
                        logger.warning(
                            "SentryAuth: the key change feed lost PostgreSQL; every key look-up asks it until the feed listens again",
                            metadata: ["sentry_auth.error": "\(String(reflecting: error))"])
                    }
                }
            }
            // However listening ended, changes may now go unannounced: stop trusting the cache.
            if listening.exchange(false, ordering: .acquiringAndReleasing) {
                cache.unconfirmAll()
                listeningGauge.record(0)
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            try? await Task.sleep(for: backoff.delay(afterFailures: max(failures, 1)))
        }
    }

    /// Drops what a notification names: `KEY-ID DIGEST-HEX` from the trigger, or anything else
    /// (a `NOTIFY` typed by hand) — then everything, to be safe.
    private func apply(_ payload: String) {
        let parts = payload.split(separator: " ")
        let id = parts.first.flatMap { APIKeyID(String($0)) }
        let digest = parts.count == 2 ? KeyDigest(hex: parts[1]) : nil
        guard id != nil || digest != nil else {
            cache.invalidateAll()
            return
        }
        if let id { cache.invalidate(keyID: id) }
        if let digest { cache.invalidate(digest: digest) }
    }
}
