import Foundation
import SentryAuth

/// The command line of `sentry-auth-server`.
struct ServerOptions {
    var host = "127.0.0.1"
    var port = 8080
    var store: String?
    var policy: String?
    var trustedProxies = IPAllowlist()
    var gate = true
    var acceptLegacyKeys = false

    static let usage = """
        Usage: sentry-auth-server --store FILE [--port N] [--host ADDRESS] [--policy FILE]
                                  [--trusted-proxy CIDRS] [--accept-legacy-keys] [--no-gate]

        Serves the Sentry Payments API's routes behind the SentryAuth gate. Each allowed request is
        answered with JSON naming the merchant of the key (every data query is scoped to it), the
        endpoint and its parameters. Keys come from a key store file made with
        'sentry-auth keys create --store FILE'; changes to the file are seen at the next request.
        When each key was last used is written to the file at most once a minute (and at shutdown).

        Options:
          --store FILE            The key store file (required)
          --port N                The port; 0 picks a free one (default 8080)
          --host ADDRESS          The address to listen on (default 127.0.0.1)
          --policy FILE           An endpoint policy in JSON (default: the built-in Sentry policy)
          --trusted-proxy CIDRS   Proxies whose X-Forwarded-For entries are believed (default: none)
          --accept-legacy-keys    Also accept keys made before checksums (a migration setting)
          --no-gate               Serve the same routes without the gate (for load comparisons)

        It prints 'listening on HOST:PORT' once it accepts connections, and stops cleanly on SIGINT
        or SIGTERM. Exit status: 0 after a clean stop, 2 bad usage, 3 a store or policy that cannot
        be read.
        """

    /// Parses the arguments; throws a message for standard error.
    init(_ arguments: [String]) throws(UsageError) {
        var index = 0
        func value(_ name: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(name) needs a value.") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--host": host = try value(argument)
            case "--port":
                guard let port = Int(try value(argument)), (0...65_535).contains(port) else {
                    throw UsageError("--port is 0 to 65535.")
                }
                self.port = port
            case "--store":
                let path = try value(argument)
                guard !path.isEmpty else { throw UsageError("--store needs a file path.") }
                store = path
            case "--policy": policy = try value(argument)
            case "--trusted-proxy":
                do {
                    trustedProxies = try IPAllowlist(parsingList: try value(argument))
                } catch {
                    throw UsageError("--trusted-proxy: \(error)")
                }
            case "--no-gate": gate = false
            case "--accept-legacy-keys": acceptLegacyKeys = true
            case "--help", "-h": throw UsageError(nil)
            default: throw UsageError("unknown argument '\(argument.prefix(64))'.")
            }
            index += 1
        }
        guard store != nil else { throw UsageError("--store is required.") }
    }
}

/// Bad usage: a message (or none, for --help) and the usage text.
struct UsageError: Error {
    let message: String?
    init(_ message: String?) { self.message = message }
}
