import Foundation
import Logging
import SentryAuthPostgres

/// `sentry-auth-server migrate --postgres URL`: create or upgrade the key store's schema, alone.
enum MigrateCommand {
    static let usage = """
        Usage: sentry-auth-server migrate [--postgres URL]

        Without --postgres, the URL is read from SENTRY_AUTH_POSTGRES_URL.
        Creates or upgrades SentryAuth's tables, indexes and triggers in PostgreSQL, then exits. It is
        idempotent and safe to run while servers run (the server also migrates at start).

        Exit status: 0 done, 2 bad usage, 3 PostgreSQL cannot be reached or refused.
        """

    static func run(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) async
        -> Int32
    {
        if arguments == ["--help"] || arguments == ["-h"] {
            print(usage)
            return 0
        }
        let text: String
        let source: String
        if arguments.count == 2, arguments[0] == "--postgres" {
            (text, source) = (arguments[1], "--postgres")
        } else if arguments.isEmpty, let value = environment[ServerOptions.postgresVariable], !value.isEmpty {
            (text, source) = (value, ServerOptions.postgresVariable)
        } else {
            Main.writeError(
                "error: expected --postgres URL (or \(ServerOptions.postgresVariable) in the environment).\n\n\(usage)\n"
            )
            return 2
        }
        let url: PostgresURL
        do {
            url = try PostgresURL(text)
        } catch {
            Main.writeError("error: \(source): \(error)\n")
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
