import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth`: run SentryAuth without writing a server.
struct CommandLineTool {
    let console: Console

    static let overview = """
        sentry-auth: API keys, endpoint policy, allowlists and rate limits from the command line.

        Usage: sentry-auth COMMAND [OPTIONS]

        Commands:
          demo        Show the gate's answer for each kind of request, on a temporary store
          keys        Create, list, revoke, roll and restrict keys in a key store file
          check       Ask the gate about one request
          digest      Print the SHA-256 digest of each key read from standard input
          allowlist   Say whether each address read from standard input is allowed
          simulate    Run a rate limiter over a trace read from standard input
          scan        Find Sentry keys in files (by shape and checksum), never printing them

        Run 'sentry-auth COMMAND --help' for a command's options.

        Exit status: 0 allowed or done; 1 refused; 2 bad usage; 3 an operational error (a store or
        file that cannot be read, written, parsed or locked).
        """

    /// Runs a command line and returns the exit status (see ``ExitStatus``).
    func run(_ arguments: [String]) async -> Int32 {
        guard let command = arguments.first else {
            console.writeError(Self.overview + "\n")
            return ExitStatus.usage
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "--help", "-h", "help":
                console.line(Self.overview)
                return 0
            case "demo": return try await DemoCommand(console: console).run(rest)
            case "keys":
                return try await KeysCommand(console: console, program: "sentry-auth", location: .file).runThrowing(
                    rest)
            case "check": return try await CheckCommand(console: console).run(rest)
            case "digest": return try DigestCommand(console: console).run(rest)
            case "allowlist": return try AllowlistCommand(console: console).run(rest)
            case "simulate": return try SimulateCommand(console: console).run(rest)
            case "scan": return try await ScanCommand(console: console).run(rest)
            default: throw UsageError("unknown command '\(command)'.")
            }
        } catch {
            return console.report(error, program: "sentry-auth")
        }
    }
}
