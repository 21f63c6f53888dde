import Foundation
import SentryAuth
import SentryAuthTesting

/// Keys in every state, a gate over in-memory stores with manual clocks, and the proxies it trusts:
/// the same world for every server adapter, so that they are held to the same answers.
public struct SentryWorld: Sendable {
    /// The key store behind the gate.
    public let keys = InMemoryKeyStore()
    /// The rate-limit store behind the gate.
    public let limits = InMemoryRateLimitStore<APIKeyID>()
    /// The wall clock for expiry; starts at 2027-01-01.
    public let wallClock = ManualWallClock(Date(timeIntervalSince1970: 1_798_761_600))  // 2027-01-01
    /// The monotonic clock for rate limits; frozen unless moved, so a minute never ends.
    public let clock = ManualMonotonicClock(.milliseconds(1_000_000))
    /// Loopback is the trusted proxy: a test client that sends X-Forwarded-For plays the proxy.
    public let resolver = ClientAddressResolver(trustedProxies: try! IPAllowlist(parsing: ["127.0.0.0/8", "::1"]))

    /// Every scope, any address.
    public let full: CreatedKey
    /// Every scope, only from 203.0.113.0/24.
    public let office: CreatedKey
    /// Only `sales:read`.
    public let narrow: CreatedKey
    /// Only `customer:read`.
    public let reader: CreatedKey
    /// Revoked.
    public let revoked: CreatedKey
    /// Expires one minute after the world starts; ``expire()`` moves past it.
    public let expiring: CreatedKey
    /// Every scope, for the concurrency test.
    public let busy: CreatedKey

    /// The merchant every key belongs to.
    public static let merchant = MerchantID("merchant_42")!

    /// Creates the keys.
    public init() async throws {
        let manager = KeyManager(store: keys, clock: wallClock)
        func create(_ name: String, scopes: ScopeSet = .all, allowlist: [String] = [], expires: Date? = nil)
            async throws -> CreatedKey
        {
            try await manager.create(
                for: Self.merchant, name: name, scopes: scopes, allowlist: try IPAllowlist(parsing: allowlist),
                expiresAt: expires)
        }
        full = try await create("full")
        office = try await create("office", allowlist: ["203.0.113.0/24"])
        narrow = try await create("narrow", scopes: [.salesRead])
        reader = try await create("reader", scopes: [.customerRead])
        revoked = try await create("revoked")
        try await manager.revoke(revoked.record.id)
        expiring = try await create("expiring", expires: wallClock.now().addingTimeInterval(60))
        busy = try await create("busy")
    }

    /// The gate every adapter under test runs.
    public var gate: RequestGate {
        RequestGate(keys: keys, policy: .sentry, rateLimits: limits, clock: clock, wallClock: wallClock)
    }

    /// Moves the wall clock past ``expiring``'s expiry.
    public func expire() { wallClock.advance(by: .seconds(61)) }
}
