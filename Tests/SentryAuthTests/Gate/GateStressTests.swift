import Foundation
import Testing

@testable import SentryAuth

@Suite("Request gate: concurrency and secrecy")
struct GateStressTests {
    @Test("100 keys of 10 merchants, 8 tasks, frozen clock: each key admits exactly its limit, principals never cross")
    func stress() async throws {
        let fixture = GateFixture()
        let merchants = (0..<10).map { MerchantID("m\($0)")! }
        var created: [(key: APIKey, record: KeyRecord)] = []
        for index in 0..<100 {
            let limit = try RateLimit(limit: 5 + index % 7, window: .seconds(60))
            let made = try await fixture.manager.create(
                for: merchants[index % 10], name: "k\(index)", scopes: [.customerRead], rateLimit: limit)
            created.append((made.key, made.record))
        }
        let keys = created
        let gate = fixture.gate
        let results = try await withThrowingTaskGroup(of: [APIKeyID: Int].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var admitted: [APIKeyID: Int] = [:]
                    for attempt in 0..<600 {
                        let (key, record) = keys[(attempt * 7 + task * 13) % 100]
                        let request = GateRequest(
                            method: "GET", target: GateFixture.customers,
                            authorization: ["Bearer " + key.revealSecret()],
                            clientAddress: nil)
                        if case .allowed(let allowed) = try await gate.evaluate(request) {
                            #expect(allowed.principal.merchantID == record.merchantID)
                            #expect(allowed.principal.keyID == record.id)
                            admitted[record.id, default: 0] += 1
                        }
                    }
                    return admitted
                }
            }
            return try await group.reduce(into: [APIKeyID: Int]()) { total, part in
                total.merge(part, uniquingKeysWith: +)
            }
        }
        for (_, record) in keys { #expect(results[record.id] == record.rateLimit.limit, "\(record.id)") }
    }

    @Test("No key's plaintext appears in any string the gate or the lifecycle produces")
    func noPlaintextLeaks() async throws {
        let fixture = GateFixture()
        var produced: [String] = []
        var secrets: [String] = []
        let created = try await fixture.manager.create(
            for: .acme, name: "k", scopes: [.invoiceRead], allowlist: try IPAllowlist(parsing: ["192.0.2.0/24"]),
            rateLimit: try RateLimit(limit: 1, window: .seconds(60)))
        secrets.append(created.key.revealSecret())
        let strangers = (0..<3).map { _ in APIKey.generate() }
        secrets += strangers.map { $0.revealSecret() }
        let flows: [GateRequest] = [
            fixture.request(created.key, "GET", "/public/api/v1/invoices", from: try IPAddress("192.0.2.1")),
            fixture.request(created.key, "GET", "/public/api/v1/invoices", from: try IPAddress("192.0.2.1")),
            fixture.request(created.key, "GET", "/public/api/v1/invoices", from: nil),
            fixture.request(created.key, "GET", "/public/api/v1/nope", from: try IPAddress("192.0.2.1")),
            fixture.request(created.key, "POST", "/public/api/v1/invoices", from: try IPAddress("192.0.2.1")),
            fixture.request(strangers[0]),
            GateRequest(
                method: "GET", target: "/", authorization: ["Bearer " + strangers[1].revealSecret() + "x"],
                clientAddress: nil),
            GateRequest(
                method: "GET", target: "/", authorization: ["Basic " + strangers[2].revealSecret()], clientAddress: nil),
            GateRequest(
                method: "GET", target: "/", authorization: ["Bearer " + created.key.revealSecret() + " junk"],
                clientAddress: nil),
        ]
        for request in flows {
            let decision = try await fixture.evaluate(request)
            produced.append(String(describing: decision))
            produced.append(String(reflecting: decision))
            var dumped = ""
            dump(decision, to: &dumped)
            produced.append(dumped)
            if let refusal = decision.refusal {
                produced.append(refusal.body)
                produced.append(refusal.message)
                produced += refusal.headers.map { $0.name + ": " + $0.value }
                produced.append("\(refusal.reason)")
            }
        }
        let rolled = try await fixture.manager.roll(created.record.id, grace: .seconds(10))
        secrets.append(rolled.key.revealSecret())
        produced.append(String(describing: rolled))
        produced.append(String(reflecting: rolled.key))
        produced.append(String(decoding: try JSONEncoder().encode(fixture.keys.allRecords), as: UTF8.self))
        produced.append(String(describing: fixture.keys.allRecords))
        for secret in secrets {
            let body = String(secret.dropFirst(5))
            for text in produced {
                // Not the key, nor any 12 consecutive characters of its body.
                for offset in stride(from: 0, through: body.count - 12, by: 4) {
                    let window = String(body.dropFirst(offset).prefix(12))
                    #expect(!text.contains(window))
                }
            }
        }
        // The scan covered real output of every kind: each answer the flows provoke, the key's
        // identifier and hint, the rolled key's record (so a leak in any of them would have been seen).
        for code in ["RATE_LIMIT_EXCEEDED", "FORBIDDEN", "NOT_FOUND", "INSUFFICIENT_SCOPE", "UNAUTHORIZED"] {
            #expect(produced.contains { $0.contains(code) }, "\(code)")
        }
        #expect(produced.contains { $0.contains(created.record.id.rawValue) })
        #expect(produced.contains { $0.contains(created.record.displayHint) })
        #expect(produced.contains { $0.contains(rolled.record.digest.hex) || $0.contains(rolled.record.id.rawValue) })
    }
}
