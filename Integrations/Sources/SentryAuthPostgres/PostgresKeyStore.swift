public import CoreMetrics
public import Foundation
public import Logging
public import PostgresNIO
import NIOSSL
public import SentryAuth
import SentryAuthEngineSupport

/// A ``KeyStore`` in PostgreSQL: the system of record for keys shared by every server instance.
///
/// ```swift
/// let client = PostgresClient(configuration: try PostgresURL("postgres://sentry@db/sentry").clientConfiguration)
/// let store = PostgresKeyStore(client: client)       // run `client.run()` in a long-lived task
/// try await store.migrate()
/// let keys = CachedKeyStore(store)                    // and a PostgresKeyChangeFeed to keep it true
/// ```
///
/// - **Schema.** `sentry_auth_keys` (one row per key: its digest, never the key; a unique index on
///   the digest; times as `timestamptz`, allowlists as `cidr[]`, scopes as the documentation's
///   comma-separated list) and `sentry_auth_key_events` (the audit trail). ``migrate()`` creates and
///   upgrades them; it is idempotent and safe to run from many servers at once.
/// - **Conditional writes.** ``replace(_:with:event:)`` locks the row, compares it with the caller's
///   `current`, and updates it only if its `version` is still the one read: a compare-and-set that
///   holds against other servers and against SQL typed by hand (a trigger moves the version on
///   every update). The event is written in the same transaction.
/// - **Notifications.** A trigger announces every change, whoever makes it, on the channel
///   ``notificationChannel`` as `KEY-ID DIGEST-HEX`; ``PostgresKeyChangeFeed`` listens and drops the
///   changed entries from a ``CachedKeyStore``.
/// - **Timeouts.** Every call gives up after ``operationTimeout`` with
///   ``PostgresKeyStoreError/timeout(operation:)``: a database that is down never holds a request
///   for long (the gate answers 503).
public struct PostgresKeyStore: KeyStore {
    /// The channel changes are announced on.
    public static let notificationChannel = KeySchema.channel

    /// The pool the store queries through. Its `run()` must be running.
    public let client: PostgresClient
    /// How long any one call may take.
    public let operationTimeout: Duration
    private let logger: Logger
    private let metrics: EngineMetrics

    /// The labels of the store's metrics: the time of each call (a timer), and the calls that failed,
    /// with a `kind` dimension: `timeout` or `database`.
    public static let durationMetricLabel = "sentry_auth_postgres_call_duration"
    /// See ``durationMetricLabel``.
    public static let errorMetricLabel = "sentry_auth_postgres_errors_total"

    /// Creates a store over a client.
    ///
    /// - Parameters:
    ///   - client: The connection pool; run its `run()` in a long-lived task.
    ///   - operationTimeout: See ``operationTimeout``; 2 s by default.
    ///   - logger: Where queries log (at the client's levels).
    ///   - metricsFactory: Where the call timer and error counters come from (see
    ///     ``durationMetricLabel``); the bootstrapped metrics system by default.
    public init(
        client: PostgresClient, operationTimeout: Duration = .seconds(2),
        logger: Logger = Logger(label: "SentryAuthPostgres"), metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.client = client
        self.operationTimeout = operationTimeout
        self.logger = logger
        self.metrics = EngineMetrics(
            duration: Self.durationMetricLabel, errors: Self.errorMetricLabel, kinds: ["timeout", "database"],
            factory: metricsFactory)
    }

    /// Whether PostgreSQL answers a trivial query within ``operationTimeout``: what `/ready` asks.
    public func isReachable() async -> Bool {
        do {
            return try await limited("reachability check") { [logger] connection in
                try await connection.query("SELECT 1", logger: logger)
                return true
            }
        } catch {
            return false
        }
    }

    /// Creates or upgrades the store's tables, triggers and indexes; does nothing when they are current.
    ///
    /// - Returns: The schema versions applied now (empty when the database was current).
    /// - Throws: ``PostgresKeyStoreError/schemaTooNew(found:known:)`` for a database migrated by a newer
    ///   version; the database's errors.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await limited("migration") { [logger] connection in
            try await KeySchema.migrate(on: connection, logger: logger)
        }
    }

    /// The record whose key has `digest`, or `nil`.
    ///
    /// - Parameter digest: The SHA-256 digest of a presented key.
    /// - Returns: The record.
    public func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        let bytes = ByteBuffer(bytes: digest.bytes)
        return try await limited("look-up by digest") { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM sentry_auth_keys WHERE digest = \(bytes)", logger: logger)
            ).first
        }
    }

    /// The record with the identifier `id`, or `nil`.
    ///
    /// - Parameter id: A key identifier.
    /// - Returns: The record.
    public func record(withID id: APIKeyID) async throws -> KeyRecord? {
        try await limited("look-up by identifier") { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM sentry_auth_keys WHERE id = \(id.rawValue)", logger: logger)
            ).first
        }
    }

    /// Every record of a merchant, ordered by creation time, then identifier.
    ///
    /// - Parameter merchantID: The merchant.
    /// - Returns: The records.
    public func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        try await limited("look-up by merchant") { [logger] connection in
            try await Self.records(
                connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM sentry_auth_keys WHERE merchant_id = \(merchantID.rawValue)
                    ORDER BY created_at, id
                    """, logger: logger))
        }
    }

    /// Every record, ordered by creation time, then identifier.
    ///
    /// - Returns: The records.
    public func allRecords() async throws -> [KeyRecord] {
        try await limited("listing") { [logger] connection in
            try await Self.records(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM sentry_auth_keys ORDER BY created_at, id", logger: logger))
        }
    }

    /// Adds a record without an audit event.
    ///
    /// - Parameter record: The record.
    /// - Throws: ``KeyStoreError/duplicateKey`` when its identifier or digest exists.
    public func insert(_ record: KeyRecord) async throws {
        try await insert(record, event: nil)
    }

    /// Adds a record and its audit event in one transaction.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: What happened.
    /// - Throws: ``KeyStoreError/duplicateKey``, adding nothing.
    public func insert(_ record: KeyRecord, event: KeyEvent) async throws {
        try await insert(record, event: Optional(event))
    }

    private func insert(_ record: KeyRecord, event: KeyEvent?) async throws {
        let row = Row(record)
        try await limited("insert") { [logger] connection in
            try await Self.transaction(on: connection, logger: logger) { connection in
                let inserted = try await connection.query(
                    """
                    INSERT INTO sentry_auth_keys (id, digest, merchant_id, name, scopes, allowlist, rate_limit,
                        rate_window_ms, created_at, expires_at, grace_ends_at, successor_id, last_used_at, revoked_at,
                        display_hint, parent_id)
                    VALUES (\(row.id), \(row.digest), \(row.merchantID), \(row.name), \(row.scopes),
                        \(row.allowlist)::text[]::cidr[], \(row.rateLimit), \(row.rateWindow),
                        \(unescaped: Self.time)\(row.createdAt)), \(unescaped: Self.time)\(row.expiresAt)),
                        \(unescaped: Self.time)\(row.graceEndsAt)), \(row.successorID),
                        \(unescaped: Self.time)\(row.lastUsedAt)), \(unescaped: Self.time)\(row.revokedAt)),
                        \(row.displayHint), \(row.parentID))
                    ON CONFLICT DO NOTHING
                    RETURNING id
                    """, logger: logger
                ).collect()
                guard inserted.count == 1 else { throw KeyStoreError.duplicateKey }
                if let event { try await Self.append(event, on: connection, logger: logger) }
            }
        }
    }

    /// Replaces a record if it is still exactly `current`.
    ///
    /// - Parameters:
    ///   - current: The record as last read.
    ///   - new: The replacement, with the same identifier and digest.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    public func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        try await replace(current, with: new, event: nil)
    }

    /// Replaces a record if it is still exactly `current`, and records the event in the same transaction.
    ///
    /// - Parameters:
    ///   - current: The record as last read.
    ///   - new: The replacement, with the same identifier and digest.
    ///   - event: What happened.
    /// - Returns: `false`, changing and recording nothing, when the stored record is no longer `current`.
    public func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent) async throws -> Bool {
        try await replace(current, with: new, event: Optional(event))
    }

    private func replace(_ current: KeyRecord, with new: KeyRecord, event: KeyEvent?) async throws -> Bool {
        guard current.id == new.id, current.digest == new.digest else { throw KeyStoreError.identityChanged }
        let row = Row(new)
        return try await limited("conditional replace") { [logger] connection in
            try await Self.transaction(on: connection, logger: logger) { connection in
                guard let version = try await Self.lockedVersion(of: current, on: connection, logger: logger) else {
                    return false
                }
                let updated = try await connection.query(
                    """
                    UPDATE sentry_auth_keys SET merchant_id = \(row.merchantID), name = \(row.name),
                        scopes = \(row.scopes), allowlist = \(row.allowlist)::text[]::cidr[],
                        rate_limit = \(row.rateLimit), rate_window_ms = \(row.rateWindow),
                        created_at = \(unescaped: Self.time)\(row.createdAt)),
                        expires_at = \(unescaped: Self.time)\(row.expiresAt)),
                        grace_ends_at = \(unescaped: Self.time)\(row.graceEndsAt)), successor_id = \(row.successorID),
                        last_used_at = \(unescaped: Self.time)\(row.lastUsedAt)),
                        revoked_at = \(unescaped: Self.time)\(row.revokedAt)),
                        display_hint = \(row.displayHint), parent_id = \(row.parentID)
                    WHERE id = \(row.id) AND version = \(version)
                    RETURNING id
                    """, logger: logger
                ).collect()
                guard updated.count == 1 else { return false }
                if let event { try await Self.append(event, on: connection, logger: logger) }
                return true
            }
        }
    }

    /// Removes a record and its events if it is still exactly `current`.
    ///
    /// - Parameter current: The record as last read.
    /// - Returns: `false`, changing nothing, when the stored record is no longer `current`.
    public func remove(_ current: KeyRecord) async throws -> Bool {
        try await limited("remove") { [logger] connection in
            try await Self.transaction(on: connection, logger: logger) { connection in
                guard let version = try await Self.lockedVersion(of: current, on: connection, logger: logger) else {
                    return false
                }
                let id = current.id.rawValue
                try await connection.query(
                    "DELETE FROM sentry_auth_keys WHERE id = \(id) AND version = \(version)", logger: logger)
                try await connection.query("DELETE FROM sentry_auth_key_events WHERE key_id = \(id)", logger: logger)
                return true
            }
        }
    }

    /// Moves each key's last use forward to the given time (never back); unknown keys are ignored.
    /// A last-use change alone sends no notification.
    ///
    /// - Parameter uses: For each key, when it was used.
    public func recordUses(_ uses: [APIKeyID: Date]) async throws {
        guard !uses.isEmpty else { return }
        let ids = uses.keys.map(\.rawValue)
        let times = uses.keys.map { Row.milliseconds(uses[$0]!) }
        _ = try await limited("last-use update") { [logger] connection in
            try await connection.query(
                """
                UPDATE sentry_auth_keys AS k SET last_used_at = greatest(k.last_used_at, u.used_at)
                FROM (SELECT unnest(\(ids)::text[]) AS id,
                             'epoch'::timestamptz + unnest(\(times)::bigint[]) * interval '1 millisecond' AS used_at) AS u
                WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)
                """, logger: logger)
        }
    }

    /// `true`: each change and its event are written in one transaction.
    public var keepsAuditTrail: Bool { true }

    /// The audit trail of a key, oldest first.
    ///
    /// - Parameter id: The key.
    /// - Returns: Its events.
    public func events(forKey id: APIKeyID) async throws -> [KeyEvent] {
        try await limited("history") { [logger] connection in
            var events: [KeyEvent] = []
            let rows = try await connection.query(
                """
                SELECT key_id, merchant_id, (extract(epoch FROM time) * 1000)::bigint, actor, kind, related,
                    scopes_before, scopes_after
                FROM sentry_auth_key_events WHERE key_id = \(id.rawValue) ORDER BY sequence
                """, logger: logger)
            for try await (keyID, merchantID, time, actor, kind, related, before, after) in rows.decode(
                (String, String, Int64, String?, String, String?, String?, String?).self)
            {
                guard let keyID = APIKeyID(keyID), let merchantID = MerchantID(merchantID) else {
                    throw PostgresKeyStoreError.corruptRecord(id: keyID, detail: "an event's identifiers")
                }
                events.append(
                    KeyEvent(
                        time: Row.date(time), actor: actor, keyID: keyID, merchantID: merchantID,
                        kind: KeyEvent.Kind(rawValue: kind), related: related.flatMap(APIKeyID.init),
                        scopesBefore: before, scopesAfter: after))
            }
            return events
        }
    }

    // MARK: - Helpers

    /// The columns every look-up reads, in `Row`'s order; times as milliseconds since 1970.
    static let columns = """
        id, digest, merchant_id, name, scopes, allowlist::text[], rate_limit, rate_window_ms,
        (extract(epoch FROM created_at) * 1000)::bigint, (extract(epoch FROM expires_at) * 1000)::bigint,
        (extract(epoch FROM grace_ends_at) * 1000)::bigint, successor_id,
        (extract(epoch FROM last_used_at) * 1000)::bigint, (extract(epoch FROM revoked_at) * 1000)::bigint,
        display_hint, parent_id
        """

    /// Opens a milliseconds-to-`timestamptz` conversion; the bound value and `)` follow.
    static let time = "('epoch'::timestamptz + interval '1 millisecond' * "

    /// Locks `current`'s row and returns its version if the row is still exactly `current`.
    private static func lockedVersion(of current: KeyRecord, on connection: PostgresConnection, logger: Logger)
        async throws -> Int64?
    {
        let rows = try await connection.query(
            "SELECT \(unescaped: columns), version FROM sentry_auth_keys WHERE id = \(current.id.rawValue) FOR UPDATE",
            logger: logger)
        for try await row in rows {
            let record = try Row.record(from: row)
            let version = try row.makeRandomAccess()[16].decode(Int64.self)
            return record == current ? version : nil
        }
        return nil
    }

    private static func append(_ event: KeyEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO sentry_auth_key_events (key_id, merchant_id, time, actor, kind, related, scopes_before,
                scopes_after)
            VALUES (\(event.keyID.rawValue), \(event.merchantID.rawValue),
                \(unescaped: time)\(Row.milliseconds(event.time))), \(event.actor), \(event.kind.rawValue),
                \(event.related?.rawValue), \(event.scopesBefore), \(event.scopesAfter))
            """, logger: logger)
    }

    /// `connection.withTransaction`, throwing the body's own error rather than postgres-nio's wrapper,
    /// so callers see ``KeyStoreError/duplicateKey`` and the like.
    static func transaction<Result: Sendable>(
        on connection: PostgresConnection, logger: Logger,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await connection.withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    private static func records(_ rows: PostgresRowSequence) async throws -> [KeyRecord] {
        var records: [KeyRecord] = []
        for try await row in rows { records.append(try Row.record(from: row)) }
        return records
    }

    /// Runs `body` on a connection leased from the pool, answering within ``operationTimeout``
    /// whatever the database does.
    ///
    /// A query on the wire to a frozen server cannot be cancelled, so at the deadline the call is
    /// abandoned rather than awaited (see `withDeadline`), and the connection it holds is closed:
    /// the pool discards it instead of handing it out again, and the abandoned query fails at once.
    private func limited<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let held = HeldConnection()
        let start = ContinuousClock.now
        defer { metrics.record(ContinuousClock.now - start) }
        do {
            return try await withDeadline(
                operationTimeout,
                timeout: { [metrics] in
                    metrics.count("timeout")
                    return PostgresKeyStoreError.timeout(operation: operation)
                },
                abandoned: { held.close() }
            ) { [client] in
                try await client.withConnection { connection in
                    try Task.checkCancellation()  // leased after the deadline: give it back unused
                    held.hold(connection)
                    defer { held.release() }
                    return try await body(connection)
                }
            }
        } catch let error as PSQLError {
            metrics.count("database")
            throw PostgresKeyStoreError.database(Self.describe(error))
        }
    }

    /// What a postgres-nio error says, in a sentence: the server's message, or what went wrong with
    /// the connection. (Its `description` is deliberately generic.)
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return message }
        if error.code == .sslUnsupported { return "TLS: the server does not offer TLS, which sslmode requires" }
        if let underlying = error.underlying,
            underlying is NIOSSLError || underlying is NIOSSLExtraError || underlying is BoringSSLError
        {
            return "TLS: the handshake failed (\(underlying)): the server's certificate did not verify against the"
                + " trusted roots (sslrootcert), or did not name the host"
        }
        var text = "\(error.code)"
        if let underlying = error.underlying { text += " (\(underlying))" }
        return text
    }
}
