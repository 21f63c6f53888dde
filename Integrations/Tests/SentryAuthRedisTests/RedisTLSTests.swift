import Foundation
import IntegrationTestSupport
import MetricsTestKit
import SentryAuth
import Testing

@testable import SentryAuthRedis

/// A TLS-only Redis (`--port 0 --tls-port`) whose default user is off and whose one ACL user has a
/// password, as managed Redis services are run; throwaway certificates made with openssl.
@Suite("Redis over TLS with an ACL user, as a managed Redis is run", .serialized)
struct RedisTLSTests {
    static let password = "acl-Secret-73"

    static func withTLSRedis(_ body: (RedisTestServer, TestCertificates) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-redis-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let redis = try RedisTestServer(
            tls: certificates,
            extraArguments: ["--user", "default", "off", "--user", "sentry", "on", ">\(password)", "~*", "&*", "+@all"])
        try await body(redis, certificates)
    }

    static func configuration(
        _ redis: RedisTestServer, host: String = "localhost", user: String = "sentry", password: String = password,
        authority: String?
    ) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: "rediss://\(user):\(password)@\(host):\(redis.port)")
        configuration.certificateAuthorityPath = authority
        return configuration
    }

    @Test("Two instances over TLS with the ACL user: exactly 60 of 100 on one key, nothing decided without Redis")
    func sharedLimitOverTLS() async throws {
        try await Self.withTLSRedis { redis, certificates in
            let metrics = TestMetrics()
            let configuration = try Self.configuration(redis, authority: certificates.authority)
            #expect(configuration.description == "rediss://sentry:***@localhost:\(redis.port)/0")
            let stores = (0..<2).map { _ in RedisRateLimitStore(configuration: configuration, metricsFactory: metrics) }
            #expect(try await stores[0].checkConnection())
            let key = RedisRateLimitStoreTests.keyID(31)
            var admitted = 0
            for request in 0..<100 {
                let decision = try await stores[request % 2].acquire(
                    key, cost: 1, limit: .default, at: .milliseconds(0))
                if decision.isAllowed { admitted += 1 }
            }
            #expect(admitted == 60)
            #expect(try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue == 0)
            for store in stores { await store.shutdown() }
        }
    }

    @Test(
        "A wrong CA, a certificate that does not name the host, a wrong password and a server without TLS are errors that say so, never the password"
    )
    func refusals() async throws {
        try await Self.withTLSRedis { redis, certificates in
            let plaintext = try RedisTestServer()
            let cases: [(RedisConfiguration, [String])] = [
                (try Self.configuration(redis, authority: certificates.otherAuthority), ["TLS", "certificate"]),
                (try Self.configuration(redis, authority: nil), ["TLS", "certificate"]),  // the system's trust store
                (
                    try Self.configuration(redis, host: "127.0.0.1", authority: certificates.authority),
                    ["TLS", "does not name the host"]
                ),
                (
                    try Self.configuration(redis, password: "wrong-Password-5", authority: certificates.authority),
                    ["credentials", "WRONGPASS"]
                ),
                (
                    try Self.configuration(redis, user: "nobody", password: "wrong-Password-5", authority: nil)
                        .with(authority: certificates.authority), ["credentials"]
                ),
                (
                    try RedisConfiguration(url: "rediss://localhost:\(redis.port)").with(
                        authority: certificates.authority),
                    ["credentials", "NOAUTH"]
                ),
                (
                    try Self.configuration(plaintext, host: "localhost", authority: certificates.authority),
                    ["TLS", "does not speak TLS"]
                ),
                (
                    try Self.configuration(redis, authority: "/nonexistent/ca.pem"),
                    ["TLS", "/nonexistent/ca.pem"]
                ),
            ]
            for (configuration, words) in cases {
                let store = RedisRateLimitStore(configuration: configuration, whenUnavailable: .refuse)
                do {
                    let answered = try await store.checkConnection()
                    Issue.record("\(configuration) was accepted (answered: \(answered))")
                } catch {
                    let text = "\(error)"
                    for word in words { #expect(text.contains(word), "\(word): \(text)") }
                    #expect(!text.contains(Self.password) && !text.contains("wrong-Password-5"), "\(text)")
                }
                // Requests are refused with the same error, not served from a fallback.
                await #expect(throws: RedisError.self) {
                    try await store.acquire(
                        RedisRateLimitStoreTests.keyID(1), cost: 1, limit: .default, at: .milliseconds(0))
                }
                await store.shutdown()
            }
        }
    }
}

extension RedisTLSTests {
    @Test(
        "A Redis Cluster over TLS whose nodes announce a host name: two stores, exactly 60 of 100 per key on every master"
    )
    func clusterOverTLS() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-cluster-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let cluster = try RedisClusterTestServer(tls: certificates)
        let metrics = TestMetrics()
        let stores = try [cluster.nodes[0], cluster.nodes[3]].map { node in
            var configuration = try RedisConfiguration(url: "rediss://localhost:\(node.port)")
            configuration.certificateAuthorityPath = certificates.authority
            return RedisRateLimitStore(configuration: configuration, metricsFactory: metrics)
        }
        #expect(try await stores[0].checkConnection())
        let keys = RedisClusterTests.keys(12, prefix: "tls")
        let (admitted, _) = try await RedisClusterTests.drive(stores, keys: keys, requests: 100)
        #expect(admitted == Array(repeating: 60, count: keys.count))
        #expect(try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue == 0)
        var holding = 0
        for master in try cluster.masters() where try master.cli("DBSIZE") != "0\n" { holding += 1 }
        #expect(holding == 3, "the twelve keys' windows are on every master")
        for store in stores { await store.shutdown() }
    }
}

extension RedisConfiguration {
    fileprivate func with(authority: String) -> Self {
        var copy = self
        copy.certificateAuthorityPath = authority
        return copy
    }
}
