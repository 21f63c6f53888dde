import Testing

@testable import SentryAuth

@Suite("Client address resolution")
struct ClientAddressResolverTests {
    let proxies = try! IPAllowlist(parsing: ["10.0.0.0/8", "2001:db8:ffff::/48"])
    var xff: ClientAddressResolver { ClientAddressResolver(trustedProxies: proxies) }
    var forwarded: ClientAddressResolver { ClientAddressResolver(trustedProxies: proxies, header: .forwarded) }

    func address(_ text: String) -> IPAddress { try! IPAddress(text) }

    @Test("No trusted proxy: the peer is the client and headers are ignored")
    func noProxies() {
        let resolver = ClientAddressResolver(trustedProxies: IPAllowlist())
        #expect(resolver.resolve(peer: address("198.51.100.7"), forwardedFor: ["127.0.0.1"]) == address("198.51.100.7"))
        #expect(resolver.resolve(peer: nil, forwardedFor: ["127.0.0.1"]) == nil)
    }

    @Test("A peer that is not a trusted proxy is the client, whatever its headers claim")
    func untrustedPeerSpoofing() {
        let peer = address("203.0.113.5")
        #expect(xff.resolve(peer: peer, forwardedFor: ["10.0.0.1"]) == peer)
        #expect(forwarded.resolve(peer: peer, forwarded: ["for=127.0.0.1"]) == peer)
    }

    @Test("One trusted proxy: the entry it appended is the client")
    func oneProxy() {
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["198.51.100.7"]) == address("198.51.100.7"))
    }

    @Test("Three trusted proxies: walk right to left to the first untrusted hop")
    func threeProxies() {
        let resolved = xff.resolve(
            peer: address("10.0.0.3"), forwardedFor: ["198.51.100.7, 10.0.0.1", "10.0.0.2"])
        #expect(resolved == address("198.51.100.7"))
    }

    @Test("Spoofed leftmost entries are never believed")
    func spoofedLeftmost() {
        // The client wrote "127.0.0.1, 10.9.9.9"; the proxy appended the real address 198.51.100.7.
        let resolved = xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["127.0.0.1, 10.9.9.9, 198.51.100.7"])
        #expect(resolved == address("198.51.100.7"))
        let viaForwarded = forwarded.resolve(
            peer: address("10.0.0.2"), forwarded: ["for=127.0.0.1, for=10.1.1.1;proto=https, for=198.51.100.7"])
        #expect(viaForwarded == address("198.51.100.7"))
    }

    @Test("Every hop trusted: the leftmost is the client")
    func allTrusted() {
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["10.0.0.9, 10.0.0.8"]) == address("10.0.0.9"))
        #expect(xff.resolve(peer: address("10.0.0.2")) == address("10.0.0.2"))
    }

    @Test(
        "A walk that stops before the client (malformed hop, too many hops or bytes) gives no address",
        arguments: [
            ["not-an-ip"], ["198.51.100.7, "], ["198.51.100.7,,10.0.0.1"], ["127.1"], ["198.51.100.7:99999"],
            ["[2001:db8::1"], ["fe80::1%eth0"], [String(repeating: "10.0.0.1,", count: 64) + "10.0.0.1"],
            [String(repeating: " ", count: 8193)], ["10.0.0.7, 10.0.0.1\u{0600}"],
        ])
    func walkStopsEarly(values: [String]) {
        // Never the trusted peer's own address: that would let a client turn itself into the proxy.
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: values) == nil)
    }

    @Test("Padding the header cannot make the resolver answer with the proxy (the spoofing defect)")
    func paddingAttack() {
        // A client sends 64 junk entries (or 9 KiB of them); the trusted proxy appends the real address.
        let real = address("198.51.100.7")
        for junk in [
            Array(repeating: "1.1.1.1", count: 64).joined(separator: ", "),
            Array(repeating: "x", count: 200).joined(separator: ","),
            String(repeating: "9", count: 9000),
        ] {
            #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: [junk + ", 198.51.100.7"]) == real)
            #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: [junk, "198.51.100.7"]) == real)
            #expect(
                forwarded.resolve(peer: address("10.0.0.2"), forwarded: [junk, "for=198.51.100.7"]) == real)
        }
        // Limits count the hops walked: 64 trusted hops are walked, the 65th is one too many.
        let trusted64 = Array(repeating: "10.0.0.1", count: 63).joined(separator: ",")
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["198.51.100.7," + trusted64]) == real)
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["198.51.100.7,10.0.0.1," + trusted64]) == nil)
        // Junk right of the client (written by no trusted proxy) stops the walk: unknown, not the proxy.
        #expect(xff.resolve(peer: address("10.0.0.2"), forwardedFor: ["198.51.100.7, junk"]) == nil)
    }

    @Test("Through the gate: a padded header no longer lets a stolen key pass an allowlist of the proxy network")
    func paddingAttackThroughTheGate() async throws {
        let fixture = GateFixture()
        let created = try await fixture.manager.create(
            for: MerchantID("merchant_1")!, name: "Proxy network only", scopes: [.customerRead],
            allowlist: try IPAllowlist(parsing: ["10.0.0.0/8"]))
        let junk = Array(repeating: "1.1.1.1", count: 70).joined(separator: ",")
        for values in [[junk + ", 198.51.100.7"], [junk + ", junk"], ["unknown"]] {
            let decision = try await fixture.gate.evaluate(
                GateRequest(
                    method: "GET", target: "/public/api/v1/customers",
                    authorization: ["Bearer \(created.key.revealSecret())"], peer: "10.0.0.2", forwardedFor: values,
                    resolver: xff))
            #expect(decision.code == "FORBIDDEN", "\(values.map { $0.suffix(20) })")
        }
        // A key without an allowlist is unaffected by an unknown client address.
        let open = try await fixture.manager.create(
            for: MerchantID("merchant_1")!, name: "Any address", scopes: [.customerRead])
        let decision = try await fixture.gate.evaluate(
            GateRequest(
                method: "GET", target: "/public/api/v1/customers",
                authorization: ["Bearer \(open.key.revealSecret())"], peer: "10.0.0.2", forwardedFor: [junk + ", junk"],
                resolver: xff))
        #expect(decision.status == 200)
    }

    @Test("X-Forwarded-For with ports, IPv6 and IPv4-mapped entries")
    func xffForms() {
        let peer = address("10.0.0.2")
        #expect(xff.resolve(peer: peer, forwardedFor: ["198.51.100.7:4711"]) == address("198.51.100.7"))
        #expect(xff.resolve(peer: peer, forwardedFor: ["[2001:db8::7]:443"]) == address("2001:db8::7"))
        #expect(xff.resolve(peer: peer, forwardedFor: [" 2001:db8::7 "]) == address("2001:db8::7"))
        #expect(xff.resolve(peer: peer, forwardedFor: ["::ffff:198.51.100.7"]) == address("198.51.100.7"))
        #expect(
            xff.resolve(peer: address("::ffff:10.0.0.2"), forwardedFor: ["198.51.100.7"]) == address("198.51.100.7"))
    }

    @Test("Forwarded (RFC 7239): quoted IPv6 with brackets and ports, parameters, case")
    func forwardedForms() {
        let peer = address("2001:db8:ffff::1")
        #expect(
            forwarded.resolve(peer: peer, forwarded: [#"for="[2001:db8:cafe::17]:4711""#])
                == address("2001:db8:cafe::17"))
        #expect(
            forwarded.resolve(peer: peer, forwarded: [#"For="[2001:db8:cafe::17]""#]) == address("2001:db8:cafe::17"))
        #expect(
            forwarded.resolve(peer: peer, forwarded: ["for=192.0.2.60;proto=http;by=203.0.113.43"])
                == address("192.0.2.60"))
        #expect(forwarded.resolve(peer: peer, forwarded: [#"for="192.0.2.60:8080""#]) == address("192.0.2.60"))
        #expect(forwarded.resolve(peer: peer, forwarded: ["proto=https;for=192.0.2.60"]) == address("192.0.2.60"))
    }

    @Test("Forwarded: unknown, obfuscated and malformed hops give no address")
    func forwardedEdges() {
        let peer = address("10.0.0.2")
        #expect(forwarded.resolve(peer: peer, forwarded: ["for=unknown"]) == nil)
        #expect(forwarded.resolve(peer: peer, forwarded: ["for=_hidden, for=10.0.0.5"]) == nil)
        for malformed in [
            "for=2001:db8::1", "for=[2001:db8::1]", "proto=https", "for=", #"for="[2001:db8::1""#,
            "for=1.2.3.4;for=5.6.7.8",
            #"for="1.2.3.4\""#, "for 1.2.3.4", "for=1.2.3.4:65536",
        ] {
            #expect(forwarded.resolve(peer: peer, forwarded: [malformed]) == nil, "\(malformed)")
        }
        // Entries left of the client are never parsed into the answer.
        #expect(forwarded.resolve(peer: peer, forwarded: ["for=garbage, for=192.0.2.60"]) == address("192.0.2.60"))
    }

    @Test("The configured header is the only one read")
    func oneHeader() {
        let peer = address("10.0.0.2")
        #expect(xff.resolve(peer: peer, forwardedFor: [], forwarded: ["for=192.0.2.60"]) == peer)
        #expect(forwarded.resolve(peer: peer, forwardedFor: ["192.0.2.60"], forwarded: []) == peer)
    }
}

@Suite("Client address: the forwarding headers are read as bytes")
struct ClientAddressBytesTests {
    let proxies = try! IPAllowlist(parsing: ["10.0.0.0/8"])

    @Test(
        "A character that combines with a comma, or an obfuscated port in X-Forwarded-For, makes the client unknown",
        arguments: [
            "10.22.1.1,\u{30D}10.2.1.1", "10.22.1.1, 10.2.1.1:_WUH", "10.22.1.1, [2001:db8::1]",
            "10.22.1.1, 10.2.1.1:", "10.22.1.1, 10.2.1.1:65536", "10.22.1.1, 10.2.1.1:0x50", "10.22.1.1, 10.2.1.1 :80",
            "10.22.1.1,\u{30D}", "10.22.1.1, 1\u{30D}0.2.1.1", "10.22.1.1, 10.2.1.1\u{FEFF}",
        ])
    func malformedHops(value: String) {
        // The key in the issue is allowed only from 10.22.1.1; the peer is a trusted proxy.
        let resolver = ClientAddressResolver(trustedProxies: proxies)
        #expect(
            resolver.resolve(peer: try! IPAddress("10.0.0.1"), forwardedFor: [value]) == nil,
            "\(value.unicodeScalars.map { $0.value })")
    }

    @Test("The issue's reproduction: a key allowed only from 10.22.1.1 is refused, through the gate")
    func reproduction() async throws {
        let keys = InMemoryKeyStore()
        let created = try await KeyManager(store: keys).create(
            for: MerchantID("merchant_1")!, name: "k", scopes: [.customerRead],
            allowlist: try IPAllowlist(parsing: ["10.22.1.1"]))
        let gate = RequestGate(keys: keys, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        let resolver = ClientAddressResolver(trustedProxies: proxies)
        for value in ["10.22.1.1,\u{30D}10.2.1.1", "10.22.1.1, 10.2.1.1:_WUH"] {
            let request = GateRequest(
                method: "GET", target: "/public/api/v1/customers",
                authorization: ["Bearer \(created.key.revealSecret())"],
                peer: "10.0.0.1", forwardedFor: [value], resolver: resolver)
            #expect(try await gate.evaluate(request).status == 403, "\(value.unicodeScalars.map { $0.value })")
        }
        // Well-formed chains still resolve: an all-trusted one to its leftmost entry, others to the
        // first untrusted hop; in Forwarded an obfuscated port is still a port (RFC 7239 §6.3).
        #expect(
            resolver.resolve(peer: try IPAddress("10.0.0.1"), forwardedFor: ["10.22.1.1, 10.2.1.1:8080"])
                == (try IPAddress("10.22.1.1")))
        #expect(
            resolver.resolve(peer: try IPAddress("10.0.0.1"), forwardedFor: ["198.51.100.7, 10.2.1.1:8080"])
                == (try IPAddress("198.51.100.7")))
        #expect(
            ClientAddressResolver(trustedProxies: proxies, header: .forwarded).resolve(
                peer: try IPAddress("10.0.0.1"),
                forwarded: [#"for="[2001:db8::1]", for=198.51.100.7, for="10.2.1.1:_WUH""#])
                == (try IPAddress("198.51.100.7")))
    }
}
