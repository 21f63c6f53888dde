import Foundation
import Testing

@testable import SentryAuth

@Suite("Request gate: malformed input")
struct GateMalformedInputTests {
    static let key = "sntr_abcdefghijklmnopqrstuvwxyzDprpqN"

    /// (Authorization values, expected reason). The documented key exists and holds every scope.
    static let headerCases: [([String], GateDecision.Refusal.Reason?)] = [
        ([], .missingCredentials),
        ([""], .missingCredentials),
        (["   "], .missingCredentials),
        (["Bearer"], .missingCredentials),
        (["Bearer "], .missingCredentials),
        (["Basic dXNlcjpwYXNz"], .missingCredentials),
        (["Basic " + key], .missingCredentials),
        (["Token " + key], .missingCredentials),
        (["Bearerx " + key], .missingCredentials),
        ([key], .missingCredentials),
        (["Bearer\t" + key], .malformedAuthorization),
        (["Bearer:" + key], .malformedAuthorization),
        (["Bearer " + key, "Bearer " + key], .malformedAuthorization),
        (["Bearer " + key, ""], .malformedAuthorization),
        (["Bearer " + key + " extra"], .malformedAuthorization),
        (["Bearer " + key + ", Bearer " + key], .malformedAuthorization),
        (["Bearer " + key + ","], .malformedAuthorization),
        (["Bearer " + key + ";"], .malformedAuthorization),
        (["Bearer \"" + key + "\""], .malformedAuthorization),
        (["Bearer " + key + "\u{0}"], .malformedAuthorization),
        (["Bearer " + key + "é"], .malformedAuthorization),
        (["Bearer " + String(repeating: "a", count: 9000)], .malformedAuthorization),
        (["Bearer " + key + String(repeating: " ", count: 8200)], .malformedAuthorization),
        (["Bearer =abc"], .malformedAuthorization),
        (["Bearer abc=def"], .malformedAuthorization),
        (["Bearer " + key + "=="], .invalidKey(.malformed(.wrongLength(expected: 37, actual: 39)))),
        (["Bearer sntr_abcdefghijklmnopqrstuvwxyz12345+"], .invalidKey(.malformed(.invalidCharacter(position: 37)))),
        (["Bearer sntr_abcdefghijklmnopqrstuvwxyz12345/"], .invalidKey(.malformed(.invalidCharacter(position: 37)))),
        (["Bearer SNTR_abcdefghijklmnopqrstuvwxyz123456"], .invalidKey(.malformed(.wrongPrefix(expected: "sntr_")))),
        (
            ["Bearer sntr_abcdefghijklmnopqrstuvwxyz12345"],
            .invalidKey(.malformed(.wrongLength(expected: 37, actual: 36)))
        ),
        // One character off: the checksum catches it before any look-up.
        (["Bearer sntr_bbcdefghijklmnopqrstuvwxyzDprpqN"], .invalidKey(.malformed(.checksumMismatch))),
        (["Bearer sntr_abcdefghijklmnopqrstuvwxyzDprpqM"], .invalidKey(.malformed(.checksumMismatch))),
        (["Bearer sntr_abcdefghijklmnopqrstuvwxyz123456"], .invalidKey(.malformed(.checksumMismatch))),
        // A well-formed, checksummed key that no record has.
        (["Bearer sntr_bbcdefghijklmnopqrstuvwxyzAb-Xd1"], .invalidKey(.unknown)),
        // Accepted forms: case-insensitive scheme, several spaces, surrounding whitespace.
        (["Bearer " + key], nil),
        (["bearer " + key], nil),
        (["BEARER " + key], nil),
        (["bEaReR " + key], nil),
        (["Bearer    " + key], nil),
        (["  Bearer " + key + " \t"], nil),
    ]

    @Test("Authorization header forms", arguments: headerCases.indices)
    func headerForms(index: Int) async throws {
        let (values, expected) = Self.headerCases[index]
        let fixture = try await Self.fixture()
        let decision = try await fixture.evaluate(
            GateRequest(method: "GET", target: GateFixture.customers, authorization: values, clientAddress: nil))
        #expect(decision.refusal?.reason == expected)
        if let refusal = decision.refusal {
            #expect(refusal.status == 401)
            let challenge = try #require(refusal.headers.first { $0.name == "WWW-Authenticate" }?.value)
            #expect(challenge.hasPrefix("Bearer realm=\"Sentry Payments API\""))
            #expect(challenge.contains("error=\"invalid_token\"") == (expected != .missingCredentials))
        }
    }

    /// (method, target, expected code) for a key with every scope and no allowlist. A method the
    /// policy does not list for a known path is 405 (SPEC §4), whatever its bytes.
    static let pathCases: [(String, String, String)] = [
        ("GET", "/public/api/v1/customers/../invoices", "NOT_FOUND"),
        ("GET", "/public/api/v1/customers/", "NOT_FOUND"),
        ("GET", "/public/api/v1//customers", "NOT_FOUND"),
        ("GET", "/public/api/v1/%63ustomers", "NOT_FOUND"),
        ("GET", "/public/api/v1/customers%2Fcus_1", "NOT_FOUND"),
        ("GET", "/Public/api/v1/customers", "NOT_FOUND"),
        ("GET", "/public/api/v1/customers;a=b", "NOT_FOUND"),
        ("GET", "/public/api/v1\\customers", "NOT_FOUND"),
        ("GET", "http://evil/public/api/v1/customers", "NOT_FOUND"),
        ("GET", "", "NOT_FOUND"),
        ("GET", "*", "NOT_FOUND"),
        ("GET", "/" + String(repeating: "x", count: 1 << 20), "NOT_FOUND"),
        ("get", "/public/api/v1/customers", "METHOD_NOT_ALLOWED"),
        ("", "/public/api/v1/customers", "METHOD_NOT_ALLOWED"),
        ("G\u{0}ET", "/public/api/v1/customers", "METHOD_NOT_ALLOWED"),
        ("CONNECT", "/public/api/v1/customers", "METHOD_NOT_ALLOWED"),
        ("GET", "/public/api/v1/customers?../../admin", "ALLOWED"),
        ("HEAD", "/public/api/v1/sales/s_%40", "ALLOWED"),
    ]

    @Test("Path and method forms", arguments: pathCases.indices)
    func pathForms(index: Int) async throws {
        let (method, target, expected) = Self.pathCases[index]
        let fixture = try await Self.fixture()
        let request = GateRequest(
            method: method, target: target, authorization: ["Bearer " + Self.key], clientAddress: nil)
        #expect(try await fixture.evaluate(request).code == expected)
    }

    /// (peer text, expected code) for a key allowlisted to 192.0.2.0/24.
    static let addressCases: [(String?, String)] = [
        ("192.0.2.1", "ALLOWED"), ("::ffff:192.0.2.1", "ALLOWED"), ("::FFFF:c000:201", "ALLOWED"),
        (nil, "FORBIDDEN"), ("", "FORBIDDEN"), ("192.0.2", "FORBIDDEN"), ("192.0.2.01", "FORBIDDEN"),
        ("0xc0.0.2.1", "FORBIDDEN"), ("3221225985", "FORBIDDEN"), ("192.0.2.1 ", "FORBIDDEN"),
        ("192.0.2.1%eth0", "FORBIDDEN"), ("fe80::1%eth0", "FORBIDDEN"), ("192.0.3.1", "FORBIDDEN"),
        ("::192.0.2.1", "FORBIDDEN"), ("2001:db8::1", "FORBIDDEN"), ("[192.0.2.1]", "FORBIDDEN"),
    ]

    @Test("Client address forms", arguments: addressCases.indices)
    func addressForms(index: Int) async throws {
        let (peer, expected) = Self.addressCases[index]
        let fixture = GateFixture()
        let record = KeyRecord(
            id: .generate(), merchantID: .acme, name: "k", scopes: .all,
            allowlist: try IPAllowlist(parsing: ["192.0.2.0/24"]),
            createdAt: testEpoch, displayHint: "sntr_…3456", digest: KeyDigest.SHA256.hash(Array(Self.key.utf8)))
        try await fixture.keys.insert(record)
        let request = GateRequest(
            method: "GET", target: GateFixture.customers, authorization: ["Bearer " + Self.key], peer: peer,
            resolver: ClientAddressResolver(trustedProxies: IPAllowlist()))
        #expect(try await fixture.evaluate(request).code == expected)
    }

    static func fixture() async throws -> GateFixture {
        let fixture = GateFixture()
        try await fixture.keys.insert(
            KeyRecord(
                id: .generate(), merchantID: .acme, name: "documented", scopes: .all, createdAt: testEpoch,
                displayHint: "sntr_…3456", digest: KeyDigest.SHA256.hash(Array(key.utf8))))
        return fixture
    }
}
