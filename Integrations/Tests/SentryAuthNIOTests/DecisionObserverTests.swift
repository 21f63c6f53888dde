import Foundation
import IntegrationTestSupport
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
        func request(_ key: CreatedKey?, _ target: String, _ method: String = "GET") -> GateRequest {
            GateRequest(
                method: method, target: target, authorization: key.map { ["Bearer \($0.key.revealSecret())"] } ?? [],
                clientAddress: try! IPAddress("198.51.100.1"))
        }
        let cases: [(GateRequest, String)] = [
            (request(key, "/public/api/v1/sales"), "allowed"),
            (request(nil, "/public/api/v1/sales"), "unauthorized"),
            (request(office, "/public/api/v1/sales"), "forbidden"),
            (request(key, "/public/api/v1/refunds"), "not_found"),
            (request(key, "/public/api/v1/sales", "TRACE"), "method_not_allowed"),
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
        #expect(metrics.counterTotal(label: "sentry_auth_decisions_total") == 7)
        // And each refusal under its reason: six refusals, six reasons.
        for reason in [
            "missing_credentials", "address_not_allowed", "no_route", "method_not_allowed", "insufficient_scope",
            "rate_limited",
        ] {
            #expect(
                metrics.counterTotal(label: "sentry_auth_refusals_total", dimensions: [("reason", reason)]) == 1,
                "\(reason)")
        }
        #expect(metrics.counterTotal(label: "sentry_auth_refusals_total") == 6)
    }

    @Test("Refusal reasons: every reason has its own label, from the published list; a key's fate is told apart")
    func reasonLabels() throws {
        let reasons: [GateDecision.Refusal.Reason] = [
            .missingCredentials, .malformedAuthorization, .invalidKey(.malformed(try #require(Self.formatError()))),
            .invalidKey(.unknown), .invalidKey(.revoked), .invalidKey(.expired), .addressNotAllowed, .noRoute,
            .methodNotAllowed(allowed: [.get]), .routeMismatch(handler: "/x"),
            .insufficientScope(missing: [.salesRead]),
            .rateLimited, .tooManyFailedAuthentications, .keyStoreUnavailable, .rateLimitStoreUnavailable,
        ]
        let labels = reasons.map(DecisionObserver.reasonLabel(of:))
        #expect(labels == DecisionObserver.refusalReasons)
        #expect(DecisionObserver.reasonLabel(of: .routeMismatch(handler: nil)) == "route_mismatch")
    }

    static func formatError() -> APIKeyFormatError? {
        do {
            _ = try APIKey(parsing: "sntr_short")
            return nil
        } catch {
            return error
        }
    }

    @Test("A route mismatch is logged at error level, naming the router's template; other refusals at debug")
    func routeMismatchLevel() async throws {
        let keys = InMemoryKeyStore()
        let key = try await KeyManager(store: keys).create(for: MerchantID("m")!, name: "k", scopes: .all)
        let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        let logs = LogCapture()
        let logger = logs.logger
        let observer = DecisionObserver(factory: TestMetrics())
        let authorization = ["Bearer \(key.key.revealSecret())"]
        for handler in [GateRequest.Handler.template("/public/api/v1/customers/export"), .unchecked] {
            observer.record(
                try await gate.evaluate(
                    GateRequest(
                        method: "GET", target: "/public/api/v1/customers/export", authorization: authorization,
                        clientAddress: nil, handler: handler)),
                logger: logger)
        }
        observer.record(
            try await gate.evaluate(
                GateRequest(method: "GET", target: "/nowhere", authorization: authorization, clientAddress: nil)),
            logger: logger)
        #expect(logs.lines.map { $0.prefix { $0 != " " } } == ["error", "debug"])
        #expect(
            logs.lines.first?.contains("the router would run the handler of /public/api/v1/customers/export") == true)
        #expect(!logs.lines.joined().contains(key.key.revealSecret()))
    }
}
