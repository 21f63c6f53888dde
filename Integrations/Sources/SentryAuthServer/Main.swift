import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SentryAuth
import SentryAuthCommandLine
import SentryAuthHummingbird
import SentryAuthPostgres
import SentryAuthRedis
import ServiceLifecycle

/// `sentry-auth-server`: the Sentry Payments API's routes behind the SentryAuth gate; `keys` and
/// `migrate` manage keys in PostgreSQL.
@main
enum Main {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "keys":
            exit(
                await KeysCommand(program: "sentry-auth-server", location: .postgres).run(Array(arguments.dropFirst())))
        case "migrate":
            exit(await MigrateCommand.run(Array(arguments.dropFirst())))
        default:
            exit(await serve(arguments))
        }
    }

    /// Writes to standard error, key-shaped text replaced (``SecretText``): an error may quote an
    /// argument, and a key typed there is never printed back.
    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(SecretText.redacted(text).utf8))
    }

    /// Parses the options and runs the server until SIGINT or SIGTERM; the exit status.
    static func serve(_ arguments: [String]) async -> Int32 {
        let options: ServerOptions
        do {
            options = try ServerOptions(arguments)
        } catch {
            if let message = error.message {
                Main.writeError("error: \(message)\n\n\(ServerOptions.usage)\n")
                return 2
            }
            print(ServerOptions.usage)
            return 0
        }
        let logger = {
            var logger = Logger(label: "sentry-auth-server")
            logger.logLevel =
                ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
            return logger
        }()
        do {
            let policy: EndpointPolicy
            do {
                policy =
                    try options.policy.map { try EndpointPolicy(json: Data(contentsOf: URL(filePath: $0))) } ?? .sentry
            } catch {
                throw StartupError(description: "the policy cannot be read: \(error)")
            }
            let limits: any RateLimitStore<APIKeyID> =
                options.redis.map {
                    RedisRateLimitStore(
                        configuration: $0, whenUnavailable: options.whenRedisUnavailable, logger: logger)
                } ?? InMemoryRateLimitStore<APIKeyID>()
            switch options.keys {
            case .file(let path):
                let store = FileKeyStore(path: path)
                _ = try store.allRecords()  // a store that cannot be read stops the server at once
                try await run(options, policy: policy, keys: store, usageStore: store, limits: limits, logger: logger)
            case .postgres(let url):
                // postgres-nio logs every failed connection attempt at info level: during an outage, one
                // line every few hundred milliseconds. Keep them for LOG_LEVEL=debug; the feed and the
                // gate's 503s say what matters.
                let databaseLogger = {
                    var quieter = logger
                    if quieter.logLevel > .debug { quieter.logLevel = max(quieter.logLevel, .notice) }
                    return quieter
                }()
                try await PostgresKeyStore.withRunningClient(url, logger: databaseLogger) { store in
                    let cache = CachedKeyStore(store)
                    let feed = PostgresKeyChangeFeed(url: url, cache: cache, logger: databaseLogger)
                    try await run(
                        options, policy: policy, keys: cache, usageStore: store, limits: limits, services: [feed],
                        logger: logger)
                }
            case nil:
                return 2
            }
            if let redis = limits as? RedisRateLimitStore { await redis.shutdown() }
            return 0
        } catch {
            Main.writeError("error: \(error)\n")
            return 3
        }
    }

    /// Serves until a graceful shutdown.
    static func run(
        _ options: ServerOptions, policy: EndpointPolicy, keys: any KeyStore, usageStore: any KeyStore,
        limits: any RateLimitStore<APIKeyID>, services: [any Service] = [], logger: Logger
    ) async throws {
        let usage = KeyUsageRecorder(store: usageStore)
        let gate = RequestGate(
            keys: keys, policy: policy, rateLimits: limits,
            format: options.acceptLegacyKeys ? .sentryAcceptingLegacyKeys : .sentry, usage: usage,
            failedAuthentications: options.failedAuthentications)
        let governor = ConnectionGovernor(
            headTimeout: .seconds(options.headTimeout), idleTimeout: .seconds(options.idleTimeout),
            maximumConnections: options.maximumConnections)
        let router = try SentryAPI.router(
            policy: policy, gate: options.gate ? gate : nil,
            resolver: ClientAddressResolver(trustedProxies: options.trustedProxies))
        let app = Application(
            router: router,
            // Head and idle timeouts and a connection cap that closes the idle first; a CONNECT's
            // answer is the last thing on its connection (nothing after it is read).
            server: .http1(
                configuration: .init(additionalChannelHandlers: [governor.handler(), CloseAfterConnectHandler()])),
            configuration: .init(address: .hostname(options.host, port: options.port)),
            services: [UsageFlushService(usage: usage)] + services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                FileHandle.standardOutput.write(Data("listening on \(options.host):\(port)\n".utf8))
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// Why the server could not start.
struct StartupError: Error, CustomStringConvertible {
    let description: String
}
