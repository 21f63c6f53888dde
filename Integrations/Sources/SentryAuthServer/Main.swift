import Foundation
import Hummingbird
import Logging
import SentryAuth

/// `sentry-auth-server`: the Sentry Payments API's routes behind the SentryAuth gate.
@main
enum Main {
    static func main() async {
        let options: ServerOptions
        do {
            options = try ServerOptions(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if let message = error.message {
                FileHandle.standardError.write(Data("error: \(message)\n\n\(ServerOptions.usage)\n".utf8))
                exit(2)
            }
            print(ServerOptions.usage)
            exit(0)
        }
        var logger = Logger(label: "sentry-auth-server")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let policy: EndpointPolicy
        do {
            policy = try options.policy.map { try EndpointPolicy(json: Data(contentsOf: URL(filePath: $0))) } ?? .sentry
        } catch {
            FileHandle.standardError.write(Data("error: the policy cannot be read: \(error)\n".utf8))
            exit(3)
        }
        let store = FileKeyStore(path: options.store!)
        do {
            _ = try store.allRecords()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(3)
        }
        let usage = KeyUsageRecorder(store: store)
        let gate = RequestGate(
            keys: store, policy: policy, rateLimits: InMemoryRateLimitStore<APIKeyID>(),
            format: options.acceptLegacyKeys ? .sentryAcceptingLegacyKeys : .sentry, usage: usage)
        let router = SentryAPI.router(
            policy: policy, gate: options.gate ? gate : nil,
            resolver: ClientAddressResolver(trustedProxies: options.trustedProxies))
        let app = Application(
            router: router, configuration: .init(address: .hostname(options.host, port: options.port)),
            services: [UsageFlushService(usage: usage)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                FileHandle.standardOutput.write(Data("listening on \(options.host):\(port)\n".utf8))
            },
            logger: logger)
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(3)
        }
    }
}
