import Foundation
import SentryAuth
import SentryAuthRedis

/// `sentry-auth-redis-bench`: the Redis limiter from one instance, as a server would use it —
/// concurrent requests over a few pipelined connections — and its round trip.
///
///     sentry-auth-redis-bench --redis URL [--connections N] [--concurrency N] [--requests N] [--keys N]
///
/// Prints checks per second and the round trip's p50 and p99 (the time of one `acquire`, as the
/// gate waits for it). Benchmarks/redis.sh runs it beside redis-benchmark, at the same number of
/// connections and the same pipeline depth (concurrency ÷ connections), in one run.
@main
enum Main {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let name = arguments.popFirst() {
            guard name.hasPrefix("--"), let value = arguments.popFirst() else {
                FileHandle.standardError.write(
                    Data(
                        "usage: sentry-auth-redis-bench --redis URL [--connections N] [--concurrency N] [--requests N] [--keys N]\n"
                            .utf8))
                exit(2)
            }
            options[String(name.dropFirst(2))] = value
        }
        if options["print-script"] != nil {
            print(RedisRateLimitStore.script)
            return
        }
        var configuration = try RedisConfiguration(url: options["redis"] ?? "redis://127.0.0.1:6379")
        configuration.connectionCount = Int(options["connections"] ?? "") ?? 4
        configuration.commandTimeout = .seconds(5)
        let concurrency = Int(options["concurrency"] ?? "") ?? 64
        let requests = Int(options["requests"] ?? "") ?? 200_000
        let keyCount = Int(options["keys"] ?? "") ?? 100_000
        let store = RedisRateLimitStore(configuration: configuration, whenUnavailable: .refuse)
        let keys = (0..<keyCount).map { APIKeyID("key_" + String(format: "%024d", $0))! }

        // Warm up: connections made, script loaded.
        for index in 0..<(configuration.connectionCount * 4) {
            _ = try await store.acquire(keys[index % keyCount], cost: 0, limit: .default, at: .milliseconds(0))
        }
        let clock = ContinuousClock()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    var samples: [Int64] = []
                    samples.reserveCapacity(requests / concurrency + 1)
                    for _ in stride(from: worker, to: requests, by: concurrency) {
                        let key = keys[Int.random(in: 0..<keyCount, using: &generator)]
                        let start = clock.now
                        _ = try await store.acquire(key, cost: 1, limit: .default, at: .milliseconds(0))
                        let elapsed = clock.now - start
                        samples.append(
                            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                    }
                    return samples
                }
            }
            var all: [Int64] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let p50 = Double(latencies[latencies.count / 2]) / 1000
        let p99 = Double(latencies[latencies.count * 99 / 100]) / 1000
        print(
            String(
                format:
                    "sentry-auth: %.0f checks/s, round trip p50 %.0f µs, p99 %.0f µs (%d requests, %d connections, %d concurrent)",
                Double(requests) / seconds, p50, p99, requests, configuration.connectionCount, concurrency))
        await store.shutdown()
    }
}
