/// Why the PostgreSQL key store failed.
public struct PostgresKeyStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum, as the core library's errors are.
    private enum Kind: Sendable, Hashable {
        case timeout(operation: String)
        case invalidURL(String)
        case corruptRecord(id: String, detail: String)
        case schemaTooNew(found: Int, known: Int)
        case database(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The database did not answer within the store's operation timeout (it is down or unreachable).
    ///
    /// - Parameter operation: What the store was doing.
    /// - Returns: The error.
    public static func timeout(operation: String) -> Self { Self(.timeout(operation: operation)) }

    /// A URL that cannot be used.
    ///
    /// - Parameter detail: What is wrong (never the password).
    /// - Returns: The error.
    public static func invalidURL(_ detail: String) -> Self { Self(.invalidURL(detail)) }

    /// A row that is not a valid key record (edited by hand into an impossible state).
    ///
    /// - Parameters:
    ///   - id: The row's key identifier.
    ///   - detail: Which column is wrong.
    /// - Returns: The error.
    public static func corruptRecord(id: String, detail: String) -> Self {
        Self(.corruptRecord(id: id, detail: detail))
    }

    /// The database's schema is newer than this library knows: a newer version migrated it.
    ///
    /// - Parameters:
    ///   - found: The database's schema version.
    ///   - known: The newest this library knows.
    /// - Returns: The error.
    public static func schemaTooNew(found: Int, known: Int) -> Self { Self(.schemaTooNew(found: found, known: known)) }

    /// The database failed: unreachable, the connection closed, or it refused a statement.
    ///
    /// - Parameter detail: What postgres-nio or the server said.
    /// - Returns: The error.
    public static func database(_ detail: String) -> Self { Self(.database(detail)) }

    /// A message saying what failed.
    public var description: String {
        switch kind {
        case .timeout(let operation): "PostgreSQL did not answer in time (\(operation)): it is down or unreachable."
        case .invalidURL(let detail): "Invalid PostgreSQL URL: \(detail)"
        case .corruptRecord(let id, let detail): "The key record \(id) in PostgreSQL is invalid: \(detail)."
        case .database(let detail): "PostgreSQL failed: \(detail)"
        case .schemaTooNew(let found, let known):
            "The database's SentryAuth schema is version \(found); this build knows up to \(known). Upgrade it."
        }
    }
}
