import SentryAuth
import ServiceLifecycle

/// Writes last use to the key store once a minute while the server runs, and once more when it
/// shuts down gracefully (SIGINT, SIGTERM).
struct UsageFlushService: Service {
    let usage: KeyUsageRecorder

    func run() async throws {
        await cancelWhenGracefulShutdown { await usage.run(every: .seconds(60)) }
        _ = try? await usage.flush()
    }
}
