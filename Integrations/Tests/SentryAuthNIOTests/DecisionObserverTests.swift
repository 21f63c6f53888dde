import Foundation
import Logging
import MetricsTestKit
import SentryAuth
import SentryAuthNIO
import SentryAuthTesting
import Testing

@Suite("Decision metrics")
struct DecisionObserverTests {
    @Test("Each answer of the gate counts under its own outcome, exactly once")
    func outcomes() async throws {
        let keys = InMemoryKeyStore()
        let manager = KeyManager(store: keys)
        let key = try await manager.create(
            for: MerchantID("m")!, name: "k", scopes: [.salesRead],
            rateLimit: try RateLimit(limit: 1, window: .seconds(60)))
        let office = try await manager.create(
            for: MerchantID("m")!, name: "o", scopes: .all, allowlist: try IPAllowlist(parsing: ["203.0.113.0/24"]))
        let gate = RequestGate(
            keys: keys, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: ManualMonotonicClock())
        let metrics = TestMetrics()
        let observer = DecisionObserver(factory: metrics)
        func request(_ key: CreatedKey?, _ target: String) -> GateRequest {
            GateRequest(
                method: "GET", target: target, authorization: key.map { ["Bearer \($0.key.revealSecret())"] } ?? [],
                clientAddress: try! IPAddress("198.51.100.1"))
        }
        let cases: [(GateRequest, String)] = [
            (request(key, "/public/api/v1/sales"), "allowed"),
            (request(nil, "/public/api/v1/sales"), "unauthorized"),
            (request(office, "/public/api/v1/sales"), "forbidden"),
            (request(key, "/public/api/v1/refunds"), "not_found"),
            (request(key, "/public/api/v1/customers"), "insufficient_scope"),
            (request(key, "/public/api/v1/sales"), "rate_limited"),
        ]
        for (request, outcome) in cases {
            let decision = try await gate.evaluate(request)
            #expect(DecisionObserver.outcome(of: decision) == outcome)
            observer.record(decision, logger: Logger(label: "test"))
        }
        for (_, outcome) in cases {
            #expect(
                metrics.counterTotal(label: "sentry_auth_decisions_total", dimensions: [("outcome", outcome)]) == 1,
                "\(outcome)")
        }
        #expect(metrics.counterTotal(label: "sentry_auth_decisions_total") == 6)
    }
}
