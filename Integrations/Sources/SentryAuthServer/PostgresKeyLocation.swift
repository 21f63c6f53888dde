import Logging
import SentryAuth
import SentryAuthCommandLine
import SentryAuthPostgres

extension KeyStoreLocation where Store == PostgresKeyStore {
    /// PostgreSQL, named with `--postgres URL`: what `sentry-auth-server keys` manages.
    static var postgres: KeyStoreLocation<PostgresKeyStore> {
        KeyStoreLocation(
            option: "--postgres", placeholder: "URL",
            notes: """
                The keys are in PostgreSQL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, with
                ?sslmode=require|verify-ca|verify-full[&sslrootcert=FILE] for TLS);
                the schema is created or upgraded first. Every change is announced to the running servers,
                which drop the key from their caches when it commits.
                """,
            open: { text, body in
                let url: PostgresURL
                do {
                    url = try PostgresURL(text)
                } catch {
                    throw KeyStoreLocationError("--postgres: \(error)")
                }
                // postgres-nio's pool logs each failed connection attempt at info level; the command reports
                // the failure itself, once.
                var quiet = Logger(label: "sentry-auth-server")
                quiet.logLevel = .critical
                return try await PostgresKeyStore.withRunningClient(url, logger: quiet) { store in try await body(store)
                }
            },
            allRecords: { try await $0.allRecords() }, environmentVariable: ServerOptions.postgresVariable)
    }
}
