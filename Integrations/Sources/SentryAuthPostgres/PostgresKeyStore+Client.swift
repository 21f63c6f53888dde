public import Logging
import PostgresNIO

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
