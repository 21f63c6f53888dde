public import SentryAuth

/// Where the `keys` commands keep keys, and how to reach them: a store file for `sentry-auth keys
/// --store FILE`, a database for `sentry-auth-server keys --postgres URL`. The commands, their flags,
/// their output and their exit statuses are the same for every location.
public struct KeyStoreLocation<Store: KeyStore>: Sendable {
    /// The option that names the location, such as `--store`.
    public let option: String
    /// What the option's value is, for the usage text, such as `FILE`.
    public let placeholder: String
    /// A paragraph for the help text: what the location is and how it is kept.
    public let notes: String
    /// Opens the store at the location and runs the command's body with it, closing it after.
    public let open:
        @Sendable (_ location: String, _ body: @Sendable (Store) async throws -> Int32) async throws -> Int32
    /// Every record in the store, oldest first.
    public let allRecords: @Sendable (Store) async throws -> [KeyRecord]
    /// An environment variable that names the location when the option is not given, such as
    /// `SENTRY_AUTH_POSTGRES_URL` (a password then need not be on a command line); the option wins.
    public let environmentVariable: String?

    /// Creates a location.
    ///
    /// - Parameters:
    ///   - option: The option that names it, such as `--postgres`.
    ///   - placeholder: What its value is, such as `URL`.
    ///   - notes: A paragraph for the help text.
    ///   - open: Opens the store and runs a body with it. Throw a ``KeyStoreLocationError`` (exit 2)
    ///     for a value that cannot name a store; any other error exits 3.
    ///   - allRecords: Lists every record.
    ///   - environmentVariable: An environment variable that names the location when the option is not
    ///     given; none by default.
    public init(
        option: String, placeholder: String, notes: String,
        open:
            @escaping @Sendable (_ location: String, _ body: @Sendable (Store) async throws -> Int32) async throws
            -> Int32,
        allRecords: @escaping @Sendable (Store) async throws -> [KeyRecord],
        environmentVariable: String? = nil
    ) {
        self.environmentVariable = environmentVariable
        self.option = option
        self.placeholder = placeholder
        self.notes = notes
        self.open = open
        self.allRecords = allRecords
    }
}

extension KeyStoreLocation where Store == FileKeyStore {
    /// A key store file, named with `--store FILE`: what `sentry-auth keys` manages.
    public static var file: KeyStoreLocation<FileKeyStore> {
        KeyStoreLocation(
            option: "--store", placeholder: "FILE",
            notes: """
                The store file is created on first use (mode 0600); a write keeps
                an existing file's mode, owner and group, and writes through a symbolic link to its target.
                """,
            open: { path, body in
                guard !path.isEmpty else { throw KeyStoreLocationError("--store needs a file path, not an empty one.") }
                return try await body(FileKeyStore(path: path))
            },
            allRecords: { try $0.allRecords() })
    }
}
