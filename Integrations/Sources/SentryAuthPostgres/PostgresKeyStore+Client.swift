public import Logging
import PostgresNIO
import SentryAuthEngineSupport

extension PostgresKeyStore {
    /// The schema version this build creates.
    public static var schemaVersion: Int { KeySchema.currentVersion }

    /// Runs `body` with a store over a new client whose `run()` goes on in a child task until `body`
    /// returns: for commands and tests that need the store for a while, not a server's lifetime.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - migrating: Whether to create or upgrade the schema first (`true` by default).
    ///   - logger: Where the client logs.
    ///   - body: The work.
    /// - Returns: What `body` returns.
    public static func withRunningClient<Result: Sendable>(
        _ url: PostgresURL, migrating: Bool = true, logger: Logger = Logger(label: "SentryAuthPostgres"),
        _ body: @Sendable (PostgresKeyStore) async throws -> Result
    ) async throws -> Result {
        var configuration = url.clientConfiguration
        configuration.options.connectTimeout = .seconds(2)
        // One connection first: a pool would retry a TLS or password failure until the deadline and
        // report only that; this says why.
        try await checkConnection(url, logger: logger)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresKeyStore(client: client, logger: logger)
            if migrating { try await store.migrate() }
            return try await body(store)
        }
    }
}

extension PostgresKeyStore {
    /// Opens one connection to `url` and closes it again: a start-up check that says why PostgreSQL
    /// cannot be used — TLS (a certificate that does not verify, a server without TLS), the password,
    /// an unknown database — where a pool would only retry until a deadline.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - timeout: How long to wait for the connection (a server that accepts and never answers).
    ///   - logger: For postgres-nio's connection.
    /// - Throws: ``PostgresKeyStoreError/database(_:)`` with the reason, or
    ///   ``PostgresKeyStoreError/timeout(operation:)``.
    public static func checkConnection(
        _ url: PostgresURL, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "SentryAuthPostgres")
    ) async throws {
        let configuration = url.connectionConfiguration
        do {
            try await withDeadline(
                timeout, timeout: { PostgresKeyStoreError.timeout(operation: "connecting") }
            ) {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: 0, logger: logger)
                try? await connection.close()
            }
        } catch let error as PSQLError {
            throw PostgresKeyStoreError.database(describe(error))
        }
    }
}
