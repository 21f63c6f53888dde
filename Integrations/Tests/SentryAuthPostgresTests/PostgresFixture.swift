import Foundation
import IntegrationTestSupport
import Logging
import PostgresNIO
import SentryAuth
import SentryAuthPostgres
import Testing

/// A migrated database of its own on the shared test server, with a running client.
struct PostgresFixture: Sendable {
    let server: PostgresTestServer
    let url: PostgresURL
    let database: String

    init(server: PostgresTestServer? = nil) throws {
        self.server = try server ?? PostgresTestServer.shared()
        let text = try self.server.createDatabase()
        url = try PostgresURL(text)
        database = url.database
    }

    /// Runs `body` with a store over a new client (its `run()` in a child task), then stops the client.
    func withStore<T: Sendable>(
        operationTimeout: Duration = .seconds(5), _ body: @Sendable (PostgresKeyStore) async throws -> T
    ) async throws -> T {
        var configuration = url.clientConfiguration
        configuration.options.connectTimeout = .seconds(1)
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            let store = PostgresKeyStore(client: client, operationTimeout: operationTimeout)
            try await store.migrate()
            return try await body(store)
        }
    }

    /// Runs SQL typed by hand, through psql.
    @discardableResult
    func psql(_ sql: String) throws -> String {
        try server.psql(sql, database: database)
    }
}

/// A record with every field set, so a round trip that drops one fails.
func fullRecord(id: String = "key_" + String(repeating: "7", count: 24), merchant: String = "merchant_full") throws
    -> (record: KeyRecord, key: APIKey)
{
    let key = APIKey.generate()
    let record = KeyRecord(
        id: APIKeyID(id)!, merchantID: MerchantID(merchant)!, name: "Invoice reminder job ✓",
        scopes: [.invoiceRead, .invoiceRemind],
        allowlist: try IPAllowlist(parsing: ["203.0.113.0/24", "2001:db8::/48", "10.1.2.3"]),
        rateLimit: try RateLimit(limit: 120, window: .milliseconds(90_500)),
        createdAt: Date(timeIntervalSince1970: 1_790_000_000.123),
        expiresAt: Date(timeIntervalSince1970: 1_800_000_000.999),
        revokedAt: Date(timeIntervalSince1970: 1_795_000_000.5),
        displayHint: key.displayHint, digest: key.digest,
        parentID: APIKeyID("key_" + String(repeating: "1", count: 24)),
        graceEndsAt: Date(timeIntervalSince1970: 1_796_000_000.001),
        successorID: APIKeyID("key_" + String(repeating: "2", count: 24)),
        lastUsedAt: Date(timeIntervalSince1970: 1_794_999_960))
    return (record, key)
}

extension KeyRecord {
    /// A copy with some fields changed (the record's setters are the library's own).
    func with(name: String? = nil, revokedAt: Date?? = nil, lastUsedAt: Date?? = nil) -> KeyRecord {
        KeyRecord(
            id: id, merchantID: merchantID, name: name ?? self.name, scopes: scopes, allowlist: allowlist,
            rateLimit: rateLimit, createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt ?? self.revokedAt,
            displayHint: displayHint, digest: digest, parentID: parentID, graceEndsAt: graceEndsAt,
            successorID: successorID, lastUsedAt: lastUsedAt ?? self.lastUsedAt)
    }
}
