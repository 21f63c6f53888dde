import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
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
        // Every metric below goes to one Prometheus registry, served with --metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        do {
            let policy: EndpointPolicy
            do {
                policy =
                    try options.policy.map { try EndpointPolicy(json: Data(contentsOf: URL(filePath: $0))) } ?? .sentry
            } catch {
                throw StartupError(description: "the policy cannot be read: \(error)")
            }
            // Services run in one group, started in this order and shut down gracefully in the
            // reverse order — whatever fails, at start-up or later: the engines first, the server last.
            var services: [any Service] = []
            var readiness = Readiness()
            var startup: @Sendable () async throws -> Void = {}
            let limits: any RateLimitStore<APIKeyID>
            if let redis = options.redis {
                let store = RedisRateLimitStore(
                    configuration: redis, whenUnavailable: options.whenRedisUnavailable, logger: logger)
                services.append(store)
                readiness.checks.append(Readiness.redis(store))
                limits = store
                // TLS or credentials that cannot work stop the server here, naming the reason; a
                // Redis that is merely down does not (the store falls back until it answers).
                if try await !store.checkConnection() {
                    logger.warning(
                        "SentryAuth: Redis does not answer at start-up; limiting per instance until it does",
                        metadata: ["sentry_auth.redis": "\(redis)"])
                }
            } else {
                limits = InMemoryRateLimitStore<APIKeyID>()
            }
            let keys: any KeyStore
            let usageStore: any KeyStore
            switch options.keys {
            case .file(let path):
                let store = FileKeyStore(path: path)
                _ = try store.allRecords()  // a store that cannot be read stops the server at once
                readiness.checks.append(Readiness.file(store))
                (keys, usageStore) = (store, store)
            case .postgres(let url):
                // postgres-nio logs every failed connection attempt at info level: during an outage, one
                // line every few hundred milliseconds. Keep them for LOG_LEVEL=debug; the feed and the
                // gate's 503s say what matters.
                let databaseLogger = {
                    var quieter = logger
                    if quieter.logLevel > .debug { quieter.logLevel = max(quieter.logLevel, .notice) }
                    return quieter
                }()
                var configuration = url.clientConfiguration
                configuration.options.connectTimeout = .seconds(2)
                let client = PostgresClient(configuration: configuration, backgroundLogger: databaseLogger)
                let store = PostgresKeyStore(client: client, logger: databaseLogger)
                let cache = CachedKeyStore(store)
                let feed = PostgresKeyChangeFeed(url: url, cache: cache, logger: databaseLogger)
                services.insert(client, at: 0)
                services.append(feed)
                readiness.checks += [Readiness.postgres(store, cache: cache), Readiness.feed(feed)]
                startup = {
                    // One connection first, so that a TLS or password failure is reported as such.
                    try await PostgresKeyStore.checkConnection(url, logger: databaseLogger)
                    try await store.migrate()
                }
                (keys, usageStore) = (cache, store)
            case nil:
                return 2
            }
            try await run(
                options, policy: policy, keys: keys, usageStore: usageStore, limits: limits, services: services,
                startup: startup, readiness: readiness, registry: registry, logger: logger)
            return 0
        } catch {
            Main.writeError("error: \(error)\n")
            return 3
        }
    }

    /// Serves until a graceful shutdown: the engines' services, the usage flusher, then the server
    /// (and the metrics listener) in one `ServiceGroup`. `startup` (migrating the schema) runs once
    /// the engines' services run and before the server listens; if it fails, the group shuts down
    /// gracefully and its error is thrown.
    static func run(
        _ options: ServerOptions, policy: EndpointPolicy, keys: any KeyStore, usageStore: any KeyStore,
        limits: any RateLimitStore<APIKeyID>, services: [any Service],
        startup: @escaping @Sendable () async throws -> Void,
        readiness: Readiness, registry: PrometheusCollectorRegistry, logger: Logger
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
            resolver: ClientAddressResolver(trustedProxies: options.trustedProxies), readiness: readiness)
        let app = Application(
            router: router,
            // Head and idle timeouts and a connection cap that closes the idle first; a CONNECT's
            // answer is the last thing on its connection (nothing after it is read).
            server: .http1(
                configuration: .init(additionalChannelHandlers: [governor.handler(), CloseAfterConnectHandler()])),
            configuration: .init(address: .hostname(options.host, port: options.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                FileHandle.standardOutput.write(Data("listening on \(options.host):\(port)\n".utf8))
            },
            logger: logger)
        var configurations = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        configurations.append(.init(service: UsageFlushService(usage: usage)))
        if let metrics = options.metrics {
            configurations.append(
                .init(service: MetricsEndpoint.application(registry: registry, at: metrics, logger: logger)))
        }
        // The server ends the group when it ends, however it ends: a failed start-up included.
        configurations.append(
            .init(
                service: StartThenServe(startup: startup, server: app),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(
                services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs `startup`, then the server: what keeps the server from listening before the schema is
/// migrated, while the engines' services already run.
struct StartThenServe<Server: Service>: Service {
    let startup: @Sendable () async throws -> Void
    let server: Server

    func run() async throws {
        try await startup()
        try await server.run()
    }
}

/// Why the server could not start.
struct StartupError: Error, CustomStringConvertible {
    let description: String
}
