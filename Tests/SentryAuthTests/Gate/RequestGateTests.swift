import Foundation
import Testing

@testable import SentryAuth
import SentryAuthTesting

@Suite("Request gate: evaluation order and responses")
struct RequestGateTests {
    @Test("Allowed: principal, route, rate-limit headers")
    func allowed() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.customerRead])
        let decision = try await fixture.evaluate(
            fixture.request(created.key, "GET", "/public/api/v1/customers/cus_1?x=1"))
        let allowed = try #require(decision.allowed)
        #expect(allowed.principal == Principal(merchantID: .acme, keyID: created.record.id, scopes: [.customerRead]))
        #expect(allowed.match.parameter("id") == "cus_1")
        #expect(decision.status == 200)
        #expect(decision.header("X-RateLimit-Limit") == "60")
        #expect(decision.header("X-RateLimit-Remaining") == "59")
        #expect(decision.header("X-RateLimit-Reset") == "60")
        #expect(decision.header("RateLimit-Policy") == "\"default\";q=60;w=60")
        #expect(decision.header("RateLimit") == "\"default\";r=59;t=60")
        #expect(decision.header("Retry-After") == nil)
    }

    @Test("Each refusal: status, code, message, headers and JSON body, field by field")
    func refusals() async throws {
        let fixture = GateFixture()
        let office = try IPAllowlist(parsing: ["203.0.113.0/24"])
        let key = try await fixture.manager.create(
            for: .acme, name: "k", scopes: [.invoiceRead], allowlist: office,
            rateLimit: try RateLimit(limit: 1, window: .seconds(60))
        ).key
        let realm = "Bearer realm=\"Sentry Payments API\""
        struct Row {
            let request: GateRequest
            let status: Int
            let code: String
            let message: String
            let challenge: String?
        }
        let rows = [
            Row(
                request: fixture.request(nil), status: 401, code: "UNAUTHORIZED", message: "Missing API key.",
                challenge: realm),
            Row(
                request: fixture.request(APIKey.generate()), status: 401, code: "UNAUTHORIZED",
                message: "Invalid API key.",
                challenge: realm + ", error=\"invalid_token\""),
            Row(
                request: fixture.request(key, from: try IPAddress("198.51.100.1")), status: 403, code: "FORBIDDEN",
                message: "API key not allowed from this IP address.", challenge: nil),
            Row(
                request: fixture.request(key, from: nil), status: 403, code: "FORBIDDEN",
                message: "API key not allowed from this IP address.", challenge: nil),
            Row(
                request: fixture.request(key, "GET", "/public/api/v1/refunds"), status: 404, code: "NOT_FOUND",
                message: "No endpoint matches this method and path.", challenge: nil),
            Row(
                request: fixture.request(key, "POST", "/public/api/v1/invoices/inv_1/remind"), status: 403,
                code: "INSUFFICIENT_SCOPE",
                message: "API key missing required scopes for this endpoint: invoice:remind.",
                challenge: realm + ", error=\"insufficient_scope\", scope=\"invoice:remind\""),
        ]
        for row in rows {
            let refusal = try #require(try await fixture.evaluate(row.request).refusal, "\(row.code)")
            #expect(refusal.status == row.status)
            #expect(refusal.code.rawValue == row.code)
            #expect(try refusal.parsedBody == ["error": row.code, "message": row.message])
            #expect(refusal.headers.first == HTTPHeaderField(name: "Content-Type", value: "application/json"))
            #expect(refusal.headers.first { $0.name == "WWW-Authenticate" }?.value == row.challenge)
        }
        // No refusal above consumed quota: the one allowed request now goes through, the next is limited.
        #expect(try await fixture.evaluate(fixture.request(key, "GET", "/public/api/v1/invoices")).allowed != nil)
        fixture.clock.advance(by: .seconds(20))
        let limited = try #require(
            try await fixture.evaluate(fixture.request(key, "GET", "/public/api/v1/invoices")).refusal)
        #expect(limited.status == 429)
        #expect(
            try limited.parsedBody == [
                "error": "RATE_LIMIT_EXCEEDED", "message": "Rate limit exceeded. Please try again in 40 seconds.",
            ])
        let headers = Dictionary(uniqueKeysWithValues: limited.headers.map { ($0.name, $0.value) })
        #expect(
            headers == [
                "Content-Type": "application/json", "Retry-After": "40", "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "40", "RateLimit-Policy": "\"default\";q=1;w=60",
                "RateLimit": "\"default\";r=0;t=40",
            ])
    }

    @Test("The seed documentation's 429 body, with the true number of seconds")
    func documented429() async throws {
        let fixture = GateFixture()
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: .all).key
        for _ in 0..<60 { #expect(try await fixture.evaluate(fixture.request(key)).allowed != nil) }
        let refusal = try #require(try await fixture.evaluate(fixture.request(key)).refusal)
        #expect(
            refusal.body
                == #"{"error":"RATE_LIMIT_EXCEEDED","message":"Rate limit exceeded. Please try again in 60 seconds."}"#)
        #expect(refusal.headers.contains(HTTPHeaderField(name: "Retry-After", value: "60")))
    }

    /// Every combination of failing checks: the earliest failing check in SPEC order answers.
    @Test("Every combination of failures: the earlier check wins")
    func earlierCheckWins() async throws {
        let fixture = GateFixture()
        let limit = try RateLimit(limit: 1, window: .seconds(3600))
        let allowlist = try IPAllowlist(parsing: ["203.0.113.0/24"])
        let good = try await fixture.manager.create(
            for: .acme, name: "good", scopes: [.invoiceRead], allowlist: allowlist, rateLimit: limit)
        // Spend the quota of a second key so rate limiting fails for it.
        let spent = try await fixture.manager.create(
            for: .acme, name: "spent", scopes: [.invoiceRead], allowlist: allowlist, rateLimit: limit)
        _ = try await fixture.evaluate(fixture.request(spent.key, "GET", "/public/api/v1/invoices"))
        let checks = ["credentials", "address", "route", "scope", "rate"]
        for mask in 0..<32 {
            let fails = { (check: String) in mask & (1 << checks.firstIndex(of: check)!) != 0 }
            let key = fails("credentials") ? APIKey.generate() : (fails("rate") ? spent.key : good.key)
            let address = fails("address") ? try IPAddress("198.51.100.1") : GateFixture.office
            let target =
                fails("route")
                ? "/public/api/v1/refunds" : (fails("scope") ? "/public/api/v1/sales" : "/public/api/v1/invoices")
            let decision = try await fixture.evaluate(fixture.request(key, "GET", target, from: address))
            let expected =
                fails("credentials")
                ? "UNAUTHORIZED"
                : fails("address")
                    ? "FORBIDDEN"
                    : fails("route")
                        ? "NOT_FOUND"
                        : fails("scope")
                            ? "INSUFFICIENT_SCOPE"
                            : fails("rate") ? "RATE_LIMIT_EXCEEDED" : "ALLOWED"
            #expect(decision.code == expected, "failing: \(checks.filter(fails))")
            if expected == "ALLOWED" {
                // Give the good key its quota back for the next combinations.
                await fixture.limits.remove(good.record.id)
            }
        }
    }

    @Test("Revoked and expired keys are refused 401; a rolled key works inside its grace period only")
    func lifecycle() async throws {
        let fixture = GateFixture()
        let manager = fixture.manager
        let revoked = try await manager.create(for: .acme, name: "r", scopes: .all)
        try await manager.revoke(revoked.record.id)
        #expect(try await fixture.evaluate(fixture.request(revoked.key)).refusal?.reason == .invalidKey(.revoked))
        let expiring = try await manager.create(
            for: .acme, name: "e", scopes: .all, expiresAt: testEpoch.addingTimeInterval(60))
        #expect(try await fixture.evaluate(fixture.request(expiring.key)).allowed != nil)
        fixture.wallClock.advance(by: .seconds(60))
        #expect(try await fixture.evaluate(fixture.request(expiring.key)).refusal?.reason == .invalidKey(.expired))

        let old = try await manager.create(for: .acme, name: "o", scopes: .all)
        let new = try await manager.roll(old.record.id, grace: .seconds(300))
        #expect(try await fixture.evaluate(fixture.request(old.key)).allowed?.principal.keyID == old.record.id)
        #expect(try await fixture.evaluate(fixture.request(new.key)).allowed?.principal.keyID == new.record.id)
        fixture.wallClock.advance(by: .seconds(299))
        #expect(try await fixture.evaluate(fixture.request(old.key)).allowed != nil)
        fixture.wallClock.advance(by: .seconds(1))
        let after = try #require(try await fixture.evaluate(fixture.request(old.key)).refusal)
        #expect(after.status == 401 && after.reason == .invalidKey(.expired))
        #expect(try await fixture.evaluate(fixture.request(new.key)).allowed != nil)
    }

    @Test("A restricted key loses the scope at once")
    func restricted() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.customerRead, .salesRead])
        #expect(try await fixture.evaluate(fixture.request(created.key)).allowed != nil)
        try await fixture.manager.restrict(created.record.id, to: [.salesRead])
        #expect(
            try await fixture.evaluate(fixture.request(created.key)).refusal?.reason
                == .insufficientScope(missing: [.customerRead]))
    }

    @Test("A cost above the key's limit is a 429 (retry after one window), never an error, and spends nothing")
    func impossibleCost() async throws {
        let fixture = GateFixture()
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: .all).key
        for cost in [61, 1_000_000, -1] {
            var request = fixture.request(key)
            request.cost = cost
            let refusal = try #require(try await fixture.evaluate(request).refusal, "cost \(cost)")
            #expect(refusal.status == 429 && refusal.code == .rateLimitExceeded && refusal.reason == .rateLimited)
            #expect(try refusal.parsedBody["message"] == "Rate limit exceeded. Please try again in 60 seconds.")
            #expect(refusal.header("Retry-After") == "60" && refusal.header("X-RateLimit-Remaining") == "0")
        }
        // Nothing was spent: the whole limit is still there.
        var request = fixture.request(key)
        request.cost = 60
        #expect(try await fixture.evaluate(request).allowed?.rateLimit.remaining == 0)
        #expect(try await fixture.evaluate(fixture.request(key)).code == "RATE_LIMIT_EXCEEDED")
    }

    @Test("A refusal names the key it found (for logs), never before the credentials step")
    func refusalKeyID() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(
            for: .acme, name: "k", scopes: [.salesRead], allowlist: try IPAllowlist(parsing: ["203.0.113.0/24"]),
            rateLimit: try RateLimit(limit: 1, window: .seconds(60)))
        let id = created.record.id
        #expect(try await fixture.evaluate(fixture.request(nil)).refusal?.keyID == nil)
        #expect(try await fixture.evaluate(fixture.request(APIKey.generate())).refusal?.keyID == nil)
        #expect(try await fixture.evaluate(fixture.request(created.key, from: nil)).refusal?.keyID == id)
        #expect(try await fixture.evaluate(fixture.request(created.key, "GET", "/nowhere")).refusal?.keyID == id)
        #expect(try await fixture.evaluate(fixture.request(created.key)).refusal?.keyID == id)  // needs customer:read
        #expect(try await fixture.evaluate(fixture.request(created.key, "GET", "/public/api/v1/sales")).allowed != nil)
        let limited = try #require(
            try await fixture.evaluate(fixture.request(created.key, "GET", "/public/api/v1/sales")).refusal)
        #expect(limited.code == .rateLimitExceeded && limited.keyID == id)
    }

    @Test("A route's declared cost is what a request spends, unless the request says otherwise")
    func routeCost() async throws {
        let fixture = GateFixture()
        let policy = try EndpointPolicy {
            EndpointPolicy.Route(.get, "/export", requires: [.salesRead], cost: 25)
            EndpointPolicy.Route(.get, "/sales", requires: [.salesRead])
            EndpointPolicy.Route(.get, "/huge", requires: [.salesRead], cost: 61)
        }
        let gate = RequestGate(
            keys: fixture.keys, policy: policy, rateLimits: fixture.limits, clock: fixture.clock,
            wallClock: fixture.wallClock)
        let key = try await fixture.manager.create(for: .acme, name: "k", scopes: [.salesRead]).key
        func remaining(_ target: String, cost: Int? = nil) async throws -> String {
            var request = fixture.request(key, "GET", target)
            request.cost = cost
            let decision = try await gate.evaluate(request)
            return decision.allowed.map { String($0.rateLimit.remaining) } ?? decision.code
        }
        #expect(try await remaining("/export") == "35")
        #expect(try await remaining("/sales") == "34")
        #expect(try await remaining("/export", cost: 4) == "30")
        #expect(try await remaining("/huge") == "RATE_LIMIT_EXCEEDED")
        #expect(try await remaining("/export") == "5")
        #expect(try await remaining("/export") == "RATE_LIMIT_EXCEEDED")
        #expect(try await remaining("/sales") == "4")
    }

    @Test("Client addresses resolved through trusted proxies; IPv4-mapped clients match IPv4 allowlists")
    func proxies() async throws {
        let fixture = GateFixture()
        let key = try await fixture.manager.create(
            for: .acme, name: "k", scopes: .all, allowlist: try IPAllowlist(parsing: ["203.0.113.0/24"])
        ).key
        let resolver = ClientAddressResolver(trustedProxies: try IPAllowlist(parsing: ["10.0.0.0/8"]))
        func request(peer: String?, xff: [String]) -> GateRequest {
            GateRequest(
                method: "GET", target: GateFixture.customers, authorization: ["Bearer " + key.revealSecret()],
                peer: peer,
                forwardedFor: xff, resolver: resolver)
        }
        #expect(try await fixture.evaluate(request(peer: "10.0.0.2", xff: ["203.0.113.7"])).allowed != nil)
        #expect(
            try await fixture.evaluate(request(peer: "10.0.0.2", xff: ["203.0.113.7, 198.51.100.1"])).code
                == "FORBIDDEN")
        #expect(try await fixture.evaluate(request(peer: "198.51.100.1", xff: ["203.0.113.7"])).code == "FORBIDDEN")
        #expect(try await fixture.evaluate(request(peer: "::ffff:203.0.113.7", xff: [])).allowed != nil)
        #expect(try await fixture.evaluate(request(peer: "not an address", xff: ["203.0.113.7"])).code == "FORBIDDEN")
    }
}

@Suite("Request gate over a key store file")
struct RequestGateFileStoreTests {
    @Test("Keys made and changed through a FileKeyStore are allowed, restricted and revoked at the gate")
    func overFileStore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gate-file-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = FileKeyStore(path: directory.appendingPathComponent("keys.json").path)
        let manager = KeyManager(store: store)
        let created = try await manager.create(for: .acme, name: "k", scopes: [.salesRead, .customerRead])
        let gate = RequestGate(keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        func status(_ target: String) async throws -> Int {
            try await gate.evaluate(
                GateRequest(
                    method: "GET", target: target, authorization: ["Bearer " + created.key.revealSecret()],
                    clientAddress: nil)
            ).status
        }
        #expect(try await status("/public/api/v1/customers") == 200)
        try await manager.restrict(created.record.id, to: [.salesRead])
        #expect(try await status("/public/api/v1/customers") == 403)
        #expect(try await status("/public/api/v1/sales") == 200)
        // Another process (another store object on the same file) revokes it: seen at the next request.
        try await KeyManager(store: FileKeyStore(path: store.path)).revoke(created.record.id)
        #expect(try await status("/public/api/v1/sales") == 401)
        // A file that cannot be parsed any more: 503 with Retry-After, never a 200 or a 401.
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: store.path))
        let broken = try await gate.evaluate(
            GateRequest(
                method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + created.key.revealSecret()],
                clientAddress: nil))
        #expect(broken.status == 503 && broken.headers.contains(HTTPHeaderField(name: "Retry-After", value: "2")))
    }
}

@Suite("Request gate built from a key manager")
struct RequestGateManagerTests {
    @Test("A gate made from a manager accepts that manager's custom key format and follows its wall clock")
    func fromManager() async throws {
        let wallClock = ManualWallClock(testEpoch)
        let manager = KeyManager(
            store: InMemoryKeyStore(), clock: wallClock, format: try APIKeyFormat(prefix: "acme_live_", bodyLength: 40))
        let created = try await manager.create(
            for: .acme, name: "k", scopes: [.salesRead], expiresAt: testEpoch.addingTimeInterval(60))
        let gate = RequestGate(manager: manager, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        let request = GateRequest(
            method: "GET", target: "/public/api/v1/sales", authorization: ["Bearer " + created.key.revealSecret()],
            clientAddress: nil)
        #expect(try await gate.evaluate(request).status == 200)
        // The default gate expects sntr_ keys: the same key is a 401 there.
        let mismatched = RequestGate(
            keys: manager.store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        #expect(try await mismatched.evaluate(request).status == 401)
        wallClock.advance(by: .seconds(60))
        #expect(try await gate.evaluate(request).code == "UNAUTHORIZED")
    }
}

@Suite("Request gate over a read-only key source")
struct GateKeyLookupTests {
    /// A source of records with nothing but the look-up the gate needs.
    struct Snapshot: KeyLookup {
        let records: [KeyDigest: KeyRecord]
        func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { records[digest] }
    }

    @Test("A KeyLookup alone stands behind a gate: allowed, unknown, and a failing source is 503")
    func lookupOnly() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(for: .acme, name: "k", scopes: [.customerRead])
        let snapshot = Snapshot(records: [created.record.digest: created.record])
        let gate = RequestGate(
            keys: snapshot, policy: .sentry, rateLimits: fixture.limits, clock: fixture.clock,
            wallClock: fixture.wallClock)
        let allowed = try await gate.evaluate(fixture.request(created.key))
        #expect(allowed.allowed?.principal.keyID == created.record.id)
        #expect(try await gate.evaluate(fixture.request(APIKey.generate())).status == 401)
        struct Down: KeyLookup {
            func record(forDigest digest: KeyDigest) async throws -> KeyRecord? { throw DownError() }
            struct DownError: Error {}
        }
        let down = RequestGate(keys: Down(), policy: .sentry, rateLimits: fixture.limits, clock: fixture.clock)
        #expect(try await down.evaluate(fixture.request(created.key)).status == 503)
    }
}
