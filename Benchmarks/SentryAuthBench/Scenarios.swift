#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SentryAuth
import Synchronization

/// Every benchmark, by its stable name. Setup happens here, outside the timed bodies.
enum Scenarios {
    static let documentedKey = "sntr_abcdefghijklmnopqrstuvwxyz123456"

    /// The benchmarks whose names pass `wanted`, in table order; nothing else is set up.
    static func all(_ wanted: @Sendable (String) -> Bool = { _ in true }) async -> [Benchmark] {
        var benchmarks = baselines() + constantTime() + hashing()
        if wanted("key.parse") || wanted("key.verify") { benchmarks += await keys() }
        benchmarks += policy()
        benchmarks += allowlists(wanted)
        benchmarks += limiters(wanted)
        if ["gate.allowed", "gate.invalid-key", "gate.insufficient-scope", "gate.rate-limited"].contains(where: wanted)
        {
            benchmarks += await gate()
        }
        return benchmarks.filter { wanted($0.name) }
    }

    // MARK: Baselines

    final class Box: Sendable {
        let atomic = Atomic<UInt64>(0)
    }

    nonisolated(unsafe) static let bytesA: UnsafeMutableRawBufferPointer = filledBuffer(32, seed: 1)
    nonisolated(unsafe) static let bytesSame: UnsafeMutableRawBufferPointer = filledBuffer(32, seed: 1)
    nonisolated(unsafe) static let bytesFirst: UnsafeMutableRawBufferPointer = {
        let buffer = filledBuffer(32, seed: 1)
        buffer[0] ^= 0x80
        return buffer
    }()
    nonisolated(unsafe) static let bytesLast: UnsafeMutableRawBufferPointer = {
        let buffer = filledBuffer(32, seed: 1)
        buffer[31] ^= 0x80
        return buffer
    }()

    static func filledBuffer(_ count: Int, seed: UInt8) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        for index in 0..<count { buffer[index] = UInt8(truncatingIfNeeded: index &* 37 &+ Int(seed)) }
        return buffer
    }

    static func baselines() -> [Benchmark] {
        let box = Box()
        let clock = SystemMonotonicClock()
        nonisolated(unsafe) let a = UnsafeRawBufferPointer(bytesA)
        nonisolated(unsafe) let b = UnsafeRawBufferPointer(bytesSame)
        return [
            Benchmark("baseline.atomic-cas") { iterations in
                for _ in 0..<iterations {
                    let current = box.atomic.load(ordering: .relaxed)
                    blackHole(
                        box.atomic.compareExchange(
                            expected: current, desired: current &+ 1, ordering: .acquiringAndReleasing))
                }
            },
            Benchmark("baseline.clock.continuous") { iterations in
                for _ in 0..<iterations { blackHole(ContinuousClock.now) }
            },
            Benchmark("baseline.clock.default") { iterations in
                for _ in 0..<iterations { blackHole(clock.now()) }
            },
            Benchmark("baseline.equal-32") { iterations in
                for _ in 0..<iterations { blackHole(memcmp(opaque(a).baseAddress!, opaque(b).baseAddress!, 32) == 0) }
            },
        ]
    }

    static func constantTime() -> [Benchmark] {
        nonisolated(unsafe) let a = UnsafeRawBufferPointer(bytesA)
        return [("same", bytesSame), ("first-differs", bytesFirst), ("last-differs", bytesLast)].map { name, other in
            nonisolated(unsafe) let b = UnsafeRawBufferPointer(other)
            return Benchmark("ct.equal-32.\(name)", baseline: "baseline.equal-32") { iterations in
                for _ in 0..<iterations { blackHole(ConstantTime.isEqual(opaque(a), opaque(b))) }
            }
        }
    }

    // MARK: Hashing and keys

    static func hashing() -> [Benchmark] {
        [("sha256.key", 37), ("sha256.64", 64), ("sha256.1k", 1024)].map { name, count in
            let message = [UInt8](repeating: 0x61, count: count)
            return Benchmark(name) { iterations in
                message.withUnsafeBytes { buffer in
                    for _ in 0..<iterations { blackHole(SHA256.hash(opaque(buffer))) }
                }
            }
        }
    }

    static func keys() async -> [Benchmark] {
        let store = InMemoryKeyStore()
        let manager = KeyManager(store: store)
        for index in 0..<1000 {
            _ = try! await manager.create(for: MerchantID("m\(index % 10)")!, name: "k\(index)", scopes: .all)
        }
        let created = try! await manager.create(for: MerchantID("bench")!, name: "bench", scopes: .all)
        let presented = created.key.revealSecret()
        return [
            Benchmark("key.parse") { iterations in
                for _ in 0..<iterations { blackHole(try! APIKey(parsing: opaque(documentedKey))) }
            },
            Benchmark(
                "key.verify",
                asyncBody: { iterations in
                    for _ in 0..<iterations { blackHole(try! await manager.verify(presented)) }
                }),
        ]
    }

    // MARK: Policy and allowlists

    static func policy() -> [Benchmark] {
        let policy = EndpointPolicy.sentry
        let target = "/public/api/v1/invoices/inv_8f3k2/remind?notify=true"
        return [
            Benchmark("policy.match") { iterations in
                for _ in 0..<iterations { blackHole(policy.match(method: opaque("POST"), target: opaque(target))) }
            }
        ]
    }

    static func allowlists(_ wanted: (String) -> Bool) -> [Benchmark] {
        var random = SystemRandomNumberGenerator()
        func v4List(_ count: Int) -> IPAllowlist {
            IPAllowlist(
                (0..<count).map { _ in
                    try! IPPrefix(
                        masking: IPAddress(ipv4: random.next()),
                        toLength: count == 1 ? 24 : 16 + Int(random.next() % 17))
                })
        }
        let probes4 = (0..<1024).map { _ in IPAddress(ipv4: random.next()) }
        let probes6 = (0..<1024).map { _ in IPAddress(ipv6: UInt128(0x2001_0db8) << 96 | UInt128(random.next()) << 32) }
        var benchmarks = [1, 16, 1000, 100_000].filter { wanted("allowlist.v4.\($0)") }.map { count in
            let list = v4List(count)
            return Benchmark("allowlist.v4.\(count)") { iterations in
                for index in 0..<iterations { blackHole(list.contains(probes4[index & 1023])) }
            }
        }
        guard wanted("allowlist.v6.1000") else { return benchmarks }
        let list6 = IPAllowlist(
            (0..<1000).map { _ in
                try! IPPrefix(
                    masking: IPAddress(ipv6: UInt128(0x2001_0db8) << 96 | UInt128(random.next()) << 32),
                    toLength: 48 + Int(random.next() % 17))
            })
        benchmarks.append(
            Benchmark("allowlist.v6.1000") { iterations in
                for index in 0..<iterations { blackHole(list6.contains(probes6[index & 1023])) }
            })
        return benchmarks
    }

    // MARK: Limiters

    /// A counter for callers that supply the time: each call is one second later, so the default
    /// 60-per-minute limit admits every call in steady state (the allowed path).
    final class Seconds: Sendable {
        let next = Atomic<UInt64>(0)
        func instant() -> MonotonicInstant { .milliseconds(next.add(1_000, ordering: .relaxed).newValue) }
    }

    static func limiters(_ wanted: (String) -> Bool) -> [Benchmark] {
        var benchmarks: [Benchmark] = []
        for (algorithm, short) in [(RateLimitAlgorithm.exact, "exact"), (.approximate, "approx")] {
            let one: @Sendable (MonotonicInstant) -> RateLimitDecision
            switch algorithm {
            case .exact:
                let limiter = SlidingWindowLimiter(limit: .default)
                one = { limiter.acquire(at: $0) }
            case .approximate:
                let limiter = ApproximateSlidingWindowLimiter(limit: .default)
                one = { limiter.acquire(at: $0) }
            }
            let singleTime = Seconds()
            benchmarks.append(
                Benchmark("limiter.\(short).1key.1thread", baseline: "baseline.atomic-cas") { iterations in
                    for _ in 0..<iterations { blackHole(one(singleTime.instant())) }
                })
            let sharedTime = Seconds()
            benchmarks.append(
                Benchmark("limiter.\(short).1key.2threads", baseline: "baseline.atomic-cas", threads: 2) { iterations in
                    for _ in 0..<iterations { blackHole(one(sharedTime.instant())) }
                })
            guard wanted("limiter.\(short).100000keys") else { continue }
            let store = InMemoryRateLimitStore<APIKeyID>(algorithm: algorithm)
            let ids = (0..<100_000).map { APIKeyID("key_\($0)")! }
            let manyTime = Seconds()
            for id in ids { _ = try! store.acquireNow(id, limit: .default, at: .milliseconds(0)) }
            benchmarks.append(
                Benchmark("limiter.\(short).100000keys", baseline: "baseline.atomic-cas") { iterations in
                    for index in 0..<iterations {
                        blackHole(try! store.acquireNow(ids[index % 100_000], limit: .default, at: manyTime.instant()))
                    }
                })
        }
        // The limiter reading the default clock itself: a limit that never binds at this rate,
        // so every call takes the allowed path (as in gate.allowed).
        let clock = SystemMonotonicClock()
        let open = SlidingWindowLimiter(limit: try! RateLimit(limit: 100_000, window: .milliseconds(1)))
        benchmarks.insert(
            Benchmark("limiter.exact.1key.1thread.clock", baseline: "baseline.atomic-cas") { iterations in
                for _ in 0..<iterations { blackHole(open.acquire(at: clock.now())) }
            }, at: 1)
        return benchmarks
    }

    // MARK: The gate

    static func gate() async -> [Benchmark] {
        let store = InMemoryKeyStore()
        let manager = KeyManager(store: store)
        let open = try! RateLimit(limit: 100_000, window: .milliseconds(1))
        let allowed = try! await manager.create(for: MerchantID("bench")!, name: "open", scopes: .all, rateLimit: open)
        let narrow = try! await manager.create(
            for: MerchantID("bench")!, name: "narrow", scopes: [.salesRead], rateLimit: open)
        let spent = try! await manager.create(
            for: MerchantID("bench")!, name: "spent", scopes: .all,
            rateLimit: try! RateLimit(limit: 1, window: .seconds(86_400)))
        let gate = RequestGate(keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        func request(_ key: String) -> GateRequest {
            GateRequest(
                method: "GET", target: "/public/api/v1/customers/cus_8f3k2?expand=invoices",
                authorization: ["Bearer " + key],
                clientAddress: IPAddress(203, 0, 113, 9))
        }
        let requests = [
            ("gate.allowed", request(allowed.key.revealSecret())),
            ("gate.invalid-key", request(APIKey.generate().revealSecret())),
            ("gate.insufficient-scope", request(narrow.key.revealSecret())),
            ("gate.rate-limited", request(spent.key.revealSecret())),
        ]
        _ = try! await gate.evaluate(requests[3].1)  // spend the only unit
        return requests.map { name, request in
            Benchmark(
                name, baseline: "sha256.key",
                asyncBody: { iterations in
                    for _ in 0..<iterations { blackHole(try! await gate.evaluate(request)) }
                })
        }
    }
}
