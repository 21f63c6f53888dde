import Foundation
import SentryAuth
import SentryAuthCommandLine
import SentryAuthPostgres
import SentryAuthRedis

/// The command line of `sentry-auth-server` (serving; `keys` and `migrate` are parsed elsewhere).
struct ServerOptions {
    /// Where keys live: a file, or PostgreSQL.
    enum Keys {
        case file(String)
        case postgres(PostgresURL)
    }

    var host = "127.0.0.1"
    var port = 8080
    var keys: Keys?
    var redis: RedisConfiguration?
    var whenRedisUnavailable = RedisRateLimitStore.Unavailability.useLocalLimiter
    /// `--redis-ca-file`, applied to the Redis URL (flag or environment) once both are read.
    var redisCertificateAuthority: String?
    var policy: String?
    var trustedProxies = IPAllowlist()
    var gate = true
    var acceptLegacyKeys = false
    /// Failed authentications allowed per client address and window; `nil` when turned off.
    var failedAuthentications: FailedAuthenticationLimit? = FailedAuthenticationLimit()
    /// Seconds to read a request's head once it started, to keep an idle connection, and the most
    /// connections open at once (``ConnectionGovernor``).
    var headTimeout = 10
    var idleTimeout = 60
    var maximumConnections = 200
    /// Where `/metrics` is served (Prometheus text format), if anywhere: `HOST:PORT`.
    var metrics: (host: String, port: Int)?

    static let usage = """
        Usage: sentry-auth-server (--store FILE | --postgres URL) [--redis URL] [--port N] [--host ADDRESS]
                                  [--policy FILE] [--trusted-proxy CIDRS] [--accept-legacy-keys] [--no-gate]
                                  [--failed-auth-limit N/SECONDS | --no-failed-auth-limit]
                                  [--head-timeout SECONDS] [--idle-timeout SECONDS] [--max-connections N]
                                  [--metrics HOST:PORT]
               sentry-auth-server keys SUBCOMMAND --postgres URL [OPTIONS]   (see 'keys --help')
               sentry-auth-server migrate [--postgres URL]

        Serves the Sentry Payments API's routes behind the SentryAuth gate. Each allowed request is
        answered with JSON naming the merchant of the key (every data query is scoped to it), the
        endpoint and its parameters.

        Keys come from a key store file ('sentry-auth keys create --store FILE'; changes are seen at
        the next request) or from PostgreSQL, shared by every instance: the server migrates the
        schema at start, caches keys for at most 10 s, and drops a key from its cache as soon as a
        change to it commits, whoever made it. With --redis, rate limits are shared by every instance
        through Redis; without it, each instance limits on its own. When each key was last used is
        written to the store at most once a minute (and at shutdown).

        Options:
          --store FILE            A key store file
          --postgres URL          PostgreSQL, such as postgres://sentry@127.0.0.1:5432/sentry; TLS as in
                                  libpq: ?sslmode=require|verify-ca|verify-full[&sslrootcert=FILE]
          --redis URL             Redis for shared rate limits, such as redis://127.0.0.1:6379/0: a
                                  stand-alone server, or any node of a Redis Cluster
          --redis-ca-file FILE    For a rediss:// URL: the PEM certificate authorities that Redis's
                                  certificate must chain to (default: the system's trust store)
          --redis-unavailable local|refuse
                                  When Redis does not answer: limit per instance (local, the default)
                                  or answer 503 SERVICE_UNAVAILABLE with Retry-After (refuse)
          --port N                The port; 0 picks a free one (default 8080)
          --host ADDRESS          The address to listen on (default 127.0.0.1)
          --policy FILE           An endpoint policy in JSON (default: the built-in Sentry policy)
          --trusted-proxy CIDRS   Proxies whose X-Forwarded-For entries are believed (default: none)
          --accept-legacy-keys    Also accept keys made before checksums (a migration setting)
          --no-gate               Serve the same routes without the gate (for load comparisons)
          --failed-auth-limit N/SECONDS
                                  After N failed authentications (unknown, malformed, revoked or
                                  expired keys) from one client address in SECONDS, answer its
                                  requests 429 without asking the key store, except for keys the
                                  cache holds (default 30/60; IPv6 counted by /64)
          --no-failed-auth-limit  Do not limit failed authentications
          --head-timeout SECONDS  Close a connection whose request head is not complete this long
                                  after its first byte (default 10)
          --idle-timeout SECONDS  Close a connection with no request in progress after this long
                                  without a byte (default 60)
          --max-connections N     The most connections open at once; at the cap, the connection
                                  idle the longest is closed to make room (default 200: keep it
                                  below the descriptor limit, 'ulimit -n')
          --metrics HOST:PORT     Serve /metrics (Prometheus text format) on this address, apart from
                                  the API: engine latency, errors and timeouts, the change feed and
                                  the Redis fallback, the gate's decisions by outcome (default: off;
                                  port 0 picks a free one, printed as 'metrics on HOST:PORT')

        Environment: SENTRY_AUTH_POSTGRES_URL and SENTRY_AUTH_REDIS_URL stand for --postgres and --redis
        when neither --store nor --postgres (or no --redis) is given, so that a password need not be on
        a command line; the flags win. 'keys' and 'migrate' read SENTRY_AUTH_POSTGRES_URL too.

        /health answers 200 while the process runs. /ready answers 200 when the server can decide:
        the key store answers (or the cache holds keys), the change feed listens, and Redis answers
        or the per-instance fallback decides; otherwise 503, with the reason in JSON. Both are outside
        the gate.

        When PostgreSQL is unreachable, keys the cache holds keep working for up to 10 s and any
        other key gets 503 SERVICE_UNAVAILABLE (never 200, never 401).

        It prints 'listening on HOST:PORT' once it accepts connections, and stops cleanly on SIGINT
        or SIGTERM. Exit status: 0 after a clean stop, 2 bad usage, 3 a store, database or policy that
        cannot be read or reached.
        """

    /// The environment variables that name PostgreSQL and Redis when `--postgres` (or `--store`) and
    /// `--redis` are not given, so that a password need not be on a command line. Flags win.
    static let postgresVariable = "SENTRY_AUTH_POSTGRES_URL"
    static let redisVariable = "SENTRY_AUTH_REDIS_URL"

    /// Parses the arguments, then the environment for what they leave out; throws a message for
    /// standard error.
    init(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(UsageError)
    {
        // A key typed where none belongs is refused before anything runs, and never printed back.
        if arguments.contains(where: SecretText.holdsKeyShapedText) {
            throw UsageError(
                "an argument looks like an API key (sntr_…); it was not printed or used. If it is a live key, roll it.")
        }
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
                guard keys == nil else { throw UsageError("give one of --store and --postgres.") }
                keys = .file(path)
            case "--postgres":
                let text = try value(argument)
                guard keys == nil else { throw UsageError("give one of --store and --postgres.") }
                do {
                    keys = .postgres(try PostgresURL(text))
                } catch {
                    throw UsageError("--postgres: \(error)")
                }
            case "--redis":
                let text = try value(argument)
                do {
                    redis = try RedisConfiguration(url: text)
                } catch {
                    throw UsageError("--redis: \(error)")
                }
            case "--redis-ca-file":
                let path = try value(argument)
                guard !path.isEmpty else { throw UsageError("--redis-ca-file needs a file path.") }
                redisCertificateAuthority = path
            case "--redis-unavailable":
                switch try value(argument) {
                case "local": whenRedisUnavailable = .useLocalLimiter
                case "refuse": whenRedisUnavailable = .refuse
                default: throw UsageError("--redis-unavailable is local or refuse.")
                }
            case "--policy": policy = try value(argument)
            case "--trusted-proxy":
                do {
                    trustedProxies = try IPAllowlist(parsingList: try value(argument))
                } catch {
                    throw UsageError("--trusted-proxy: \(error)")
                }
            case "--failed-auth-limit":
                let text = try value(argument)
                let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, let count = Int(parts[0]), (1...1_000_000).contains(count),
                    let seconds = Int(parts[1]), (1...86_400).contains(seconds)
                else { throw UsageError("--failed-auth-limit is N/SECONDS, such as 30/60.") }
                failedAuthentications = FailedAuthenticationLimit(limit: count, window: .seconds(seconds))
            case "--no-failed-auth-limit": failedAuthentications = nil
            case "--head-timeout", "--idle-timeout", "--max-connections":
                guard let number = Int(try value(argument)), (1...1_000_000).contains(number) else {
                    throw UsageError("\(argument) takes a whole number from 1 to 1000000.")
                }
                switch argument {
                case "--head-timeout": headTimeout = number
                case "--idle-timeout": idleTimeout = number
                default: maximumConnections = number
                }
            case "--metrics":
                let text = try value(argument)
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                    (0...65_535).contains(port), colon > text.startIndex
                else { throw UsageError("--metrics is HOST:PORT, such as 127.0.0.1:9090.") }
                var host = String(text[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                metrics = (host, port)
            case "--no-gate": gate = false
            case "--accept-legacy-keys": acceptLegacyKeys = true
            case "--help", "-h": throw UsageError(nil)
            default: throw UsageError("unknown argument '\(argument.prefix(64))'.")
            }
            index += 1
        }
        if keys == nil, let text = environment[Self.postgresVariable], !text.isEmpty {
            do {
                keys = .postgres(try PostgresURL(text))
            } catch {
                throw UsageError("\(Self.postgresVariable): \(error)")
            }
        }
        if redis == nil, let text = environment[Self.redisVariable], !text.isEmpty {
            do {
                redis = try RedisConfiguration(url: text)
            } catch {
                throw UsageError("\(Self.redisVariable): \(error)")
            }
        }
        if let path = redisCertificateAuthority {
            guard redis?.usesTLS == true else { throw UsageError("--redis-ca-file needs a rediss:// URL.") }
            redis?.certificateAuthorityPath = path
        }
        guard keys != nil else {
            throw UsageError(
                "--store FILE or --postgres URL (or \(Self.postgresVariable) in the environment) is required.")
        }
    }
}

/// Bad usage: a message (or none, for --help) and the usage text.
struct UsageError: Error {
    let message: String?
    init(_ message: String?) { self.message = message }
}
