import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

/// A gate over real in-memory stores, the built-in Sentry policy and manual clocks.
struct GateFixture: Sendable {
    let keys = InMemoryKeyStore()
    let limits = InMemoryRateLimitStore<APIKeyID>()
    let wallClock = ManualWallClock(testEpoch)
    let clock = ManualMonotonicClock(.milliseconds(1_000_000))
    var manager: KeyManager<InMemoryKeyStore> { KeyManager(store: keys, clock: wallClock) }
    var gate: RequestGate {
        RequestGate(keys: keys, policy: .sentry, rateLimits: limits, clock: clock, wallClock: wallClock)
    }

    static let customers = "/public/api/v1/customers"
    static let office = try! IPAddress("203.0.113.9")

    func request(
        _ key: APIKey?, _ method: String = "GET", _ target: String = customers, from address: IPAddress? = office
    ) -> GateRequest {
        GateRequest(
            method: method, target: target, authorization: key.map { ["Bearer " + $0.revealSecret()] } ?? [],
            clientAddress: address)
    }

    func evaluate(_ request: GateRequest) async throws -> GateDecision {
        try await gate.evaluate(request)
    }
}

extension GateDecision {
    var refusal: GateDecision.Refusal? {
        if case .refused(let refusal) = self { return refusal }
        return nil
    }

    var allowed: GateDecision.Allowed? {
        if case .allowed(let allowed) = self { return allowed }
        return nil
    }

    /// The refusal's code, or "ALLOWED".
    var code: String { refusal?.code.rawValue ?? "ALLOWED" }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

extension GateDecision.Refusal {
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body parsed back as JSON.
    var parsedBody: [String: String] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8))
            return try #require(object as? [String: String])
        }
    }
}
