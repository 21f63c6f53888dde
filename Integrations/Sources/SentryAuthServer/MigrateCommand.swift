import Foundation
import Logging
import SentryAuthPostgres

/// `sentry-auth-server migrate --postgres URL`: create or upgrade the key store's schema, alone.
enum MigrateCommand {
    static let usage = """
        Usage: sentry-auth-server migrate --postgres URL

        Creates or upgrades SentryAuth's tables, indexes and triggers in PostgreSQL, then exits. It is
        idempotent and safe to run while servers run (the server also migrates at start).

        Exit status: 0 done, 2 bad usage, 3 PostgreSQL cannot be reached or refused.
        """

    static func run(_ arguments: [String]) async -> Int32 {
        if arguments == ["--help"] || arguments == ["-h"] {
            print(usage)
            return 0
        }
        guard arguments.count == 2, arguments[0] == "--postgres" else {
            Main.writeError("error: expected --postgres URL.\n\n\(usage)\n")
            return 2
        }
        let url: PostgresURL
        do {
            url = try PostgresURL(arguments[1])
        } catch {
            Main.writeError("error: --postgres: \(error)\n")
            return 2
        }
        do {
            var quiet = Logger(label: "sentry-auth-server")
            quiet.logLevel = .critical
            let applied = try await PostgresKeyStore.withRunningClient(url, migrating: false, logger: quiet) { store in
                try await store.migrate()
            }
            print(
                applied.isEmpty
                    ? "schema: already at version \(PostgresKeyStore.schemaVersion) (\(url))"
                    : "schema: applied version \(applied.map(String.init).joined(separator: ", ")) (\(url))")
            return 0
        } catch {
            Main.writeError("error: \(error)\n")
            return 3
        }
    }
}
