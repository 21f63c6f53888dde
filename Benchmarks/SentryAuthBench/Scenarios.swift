#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SentryAuth
import Synchronization

/// Every benchmark, by its stable name. Setup happens here, outside the timed bodies.
enum Scenarios {
    static let documentedKey = "sntr_abcdefghijklmnopqrstuvwxyzDprpqN"

    /// The benchmarks whose names pass `wanted`, in table order; nothing else is set up.
    static func all(_ wanted: @Sendable (String) -> Bool = { _ in true }) async -> [Benchmark] {
        var benchmarks = baselines() + constantTime() + hashing()
        if wanted("baseline.memory-chase.64MiB") || wanted("limiter.exact.100000keys")
            || wanted("limiter.approx.100000keys")
        {
            benchmarks.append(memoryChase())
        }
        if wanted("key.parse") || wanted("key.verify") { benchmarks += await keys() }
        benchmarks += policy()
        benchmarks += allowlists(wanted)
        benchmarks += limiters(wanted)
        if [
            "gate.allowed", "gate.allowed.2threads", "gate.allowed.cached", "gate.allowed.headers",
            "gate.allowed.values",
            "gate.invalid-key",
            "gate.invalid-checksum",
            "gate.insufficient-scope",
            "gate.rate-limited",
        ]
        .contains(where: wanted) {
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
        let shared = Box()
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
            // The same on one word from two threads at once: the cache line moves between the cores
            // on every operation. The floor for any state two threads write, such as one key's limiter.
            Benchmark("baseline.atomic-cas.2threads", threads: 2) { iterations in
                for _ in 0..<iterations {
                    let current = shared.atomic.load(ordering: .relaxed)
                    blackHole(
                        shared.atomic.compareExchange(
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

    /// One dependent load at a random place in 64 MiB per operation: a single random cycle through
    /// 8 Mi words (Sattolo's shuffle), so every load misses the caches — the floor for per-key state
    /// that does not fit in cache.
    static func memoryChase() -> Benchmark {
        let count = 64 << 20 / MemoryLayout<Int>.stride
        let next = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        for index in 0..<count { next[index] = index }
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for index in stride(from: count - 1, to: 0, by: -1) {
            next.swapAt(index, randomIndex(&state, below: index))
        }
        nonisolated(unsafe) let chain = UnsafeBufferPointer(next)
        nonisolated(unsafe) var position = 0
        return Benchmark("baseline.memory-chase.64MiB") { iterations in
            var current = position
            for _ in 0..<iterations { current = chain[current] }
            position = current
            blackHole(current)
        }
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
                    for _ in 0..<iterations { blackHole(KeyDigest.SHA256.hash(opaque(buffer))) }
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

    /// Time supplied by the caller, advancing `step` per call with no atomic per operation: each
    /// batch starts where the latest batch (on any thread) ended and counts in a local variable; one
    /// atomic `max` per batch publishes its end.
    final class Timeline: Sendable {
        let latest = Atomic<UInt64>(0)
        let step: UInt64

        init(step: Duration) {
            self.step =
                UInt64(step.components.seconds) * 1_000_000_000 + UInt64(step.components.attoseconds / 1_000_000_000)
        }

        @inline(__always)
        func batch(_ iterations: Int, _ body: (MonotonicInstant) -> Void) {
            var now = latest.load(ordering: .relaxed)
            for _ in 0..<iterations {
                now &+= step
                body(MonotonicInstant(nanoseconds: now))
            }
            latest.max(now, ordering: .relaxed)
        }
    }

    /// Key identifiers shaped like real ones (`key_` and 24 hex digits, 28 characters: heap-allocated
    /// strings, as in a real store), from a fixed seed so that runs are repeatable.
    static func realKeyIDs(_ count: Int) -> [APIKeyID] {
        var state: UInt64 = 0xD1B5_4A32_D192_ED03
        return (0..<count).map { _ in
            let digits = (0..<24).map { _ in String(randomIndex(&state, below: 16), radix: 16) }.joined()
            return APIKeyID("key_" + digits)!
        }
    }

    /// A fast random index in `0..<count` (xorshift, multiply-shift: no division).
    @inline(__always)
    static func randomIndex(_ state: inout UInt64, below count: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(((state >> 32) &* UInt64(count)) >> 32)
    }

    /// The limiter scenarios, all with the Sentry limit (60 per 60 s): `allowed` (the caller's time
    /// one second later per call, so every call is admitted), `refused` (window full, time frozen),
    /// `clock` (the default clock, mostly refused: an over-eager client), `2threads` (one key, two
    /// threads, caller's time), `100000keys` (the in-memory store, 100,000 real key IDs, a random key
    /// per call, time advancing 0.5 ms a call).
    static func limiters(_ wanted: (String) -> Bool) -> [Benchmark] {
        var benchmarks: [Benchmark] = []
        let clock = SystemMonotonicClock()
        for (algorithm, short) in [(RateLimitAlgorithm.exact, "exact"), (.approximate, "approx")] {
            func limiter() -> @Sendable (MonotonicInstant) -> RateLimitDecision {
                switch algorithm {
                case .exact:
                    let limiter = SlidingWindowLimiter(limit: .default)
                    return { limiter.acquire(at: $0) }
                case .approximate:
                    let limiter = ApproximateSlidingWindowLimiter(limit: .default)
                    return { limiter.acquire(at: $0) }
                }
            }
            let allowed = limiter()
            let allowedTime = Timeline(step: .seconds(1))
            benchmarks.append(
                Benchmark("limiter.\(short).allowed", baseline: "baseline.atomic-cas") { iterations in
                    allowedTime.batch(iterations) { blackHole(allowed($0)) }
                })
            let refused = limiter()
            for _ in 0..<60 { _ = refused(.milliseconds(1)) }
            benchmarks.append(
                Benchmark("limiter.\(short).refused", baseline: "baseline.atomic-cas") { iterations in
                    for _ in 0..<iterations { blackHole(refused(.milliseconds(2))) }
                })
            let clocked = limiter()
            benchmarks.append(
                Benchmark("limiter.\(short).clock", baseline: "baseline.atomic-cas") { iterations in
                    for _ in 0..<iterations { blackHole(clocked(clock.now())) }
                })
            let shared = limiter()
            let sharedTime = Timeline(step: .seconds(1))
            benchmarks.append(
                Benchmark("limiter.\(short).2threads", baseline: "limiter.\(short).allowed", threads: 2) { iterations in
                    sharedTime.batch(iterations) { blackHole(shared($0)) }
                })
            guard wanted("limiter.\(short).100000keys") else { continue }
            let store = InMemoryRateLimitStore<APIKeyID>(algorithm: algorithm)
            let ids = realKeyIDs(100_000)
            for id in ids { _ = try! store.acquireNow(id, limit: .default, at: .milliseconds(0)) }
            // 0.5 ms per call: a random key comes back about every 50 s, inside its 60 s window, so its
            // state stays in the store (not swept as idle) and every call is admitted.
            let manyTime = Timeline(step: .microseconds(500))
            benchmarks.append(
                Benchmark("limiter.\(short).100000keys", baseline: "baseline.memory-chase.64MiB") { iterations in
                    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
                    manyTime.batch(iterations) { now in
                        let id = ids[randomIndex(&state, below: 100_000)]
                        blackHole(try! store.acquireNow(id, limit: .default, at: now))
                    }
                })
        }
        return benchmarks
    }

    // MARK: The gate

    static func gate() async -> [Benchmark] {
        let store = InMemoryKeyStore()
        let manager = KeyManager(store: store)
        let allowed = try! await manager.create(for: MerchantID("bench")!, name: "allowed", scopes: .all)
        let narrow = try! await manager.create(for: MerchantID("bench")!, name: "narrow", scopes: [.salesRead])
        let spent = try! await manager.create(
            for: MerchantID("bench")!, name: "spent", scopes: .all,
            rateLimit: try! RateLimit(limit: 1, window: .seconds(86_400)))
        // The Sentry limit (60 per 60 s) on every key, and a clock one second later at every read, so
        // that the allowed key stays allowed without an atomic per request.
        let gate = RequestGate(
            keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: SteppingClock())
        func request(_ key: String) -> GateRequest {
            GateRequest(
                method: "GET", target: "/public/api/v1/customers/cus_8f3k2?expand=invoices",
                authorization: ["Bearer " + key],
                clientAddress: IPAddress(203, 0, 113, 9))
        }
        let requests = [
            ("gate.allowed", request(allowed.key.revealSecret())),
            ("gate.invalid-key", request(APIKey.generate().revealSecret())),
            // A made-up key (any 32 base64url characters): refused by its checksum, before hashing.
            (
                "gate.invalid-checksum",
                request(APIKey.generate(format: .sentryAcceptingLegacyKeys.withChecksum(.none)).revealSecret())
            ),
            ("gate.insufficient-scope", request(narrow.key.revealSecret())),
            ("gate.rate-limited", request(spent.key.revealSecret())),
        ]
        _ = try! await gate.evaluate(requests[4].1)  // spend the only unit
        // The same allowed request through a CachedKeyStore over a store whose look-up suspends
        // (as a database's does): every request after the first is a cache hit.
        let cached = CachedKeyStore(SuspendingKeyStore(store), clock: FrozenClock())
        let cachedGate = RequestGate(
            keys: cached, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(), clock: SteppingClock())
        let all = requests.map { ($0.0, gate, $0.1) } + [("gate.allowed.cached", cachedGate, requests[0].1)]
        var benchmarks = all.map { name, gate, request in
            Benchmark(
                name, baseline: "sha256.key",
                asyncBody: { iterations in
                    for _ in 0..<iterations { blackHole(try! await gate.evaluate(request)) }
                })
        }
        // The allowed request and its response headers, each field rendered into storage on the stack
        // (what an adapter writing bytes does): still nothing allocated.
        let allowedRequest = requests[0].1
        benchmarks.append(
            Benchmark(
                "gate.allowed.headers", baseline: "sha256.key",
                asyncBody: { iterations in
                    for _ in 0..<iterations {
                        guard case .allowed(let allowed) = try! await gate.evaluate(allowedRequest) else { continue }
                        for field in RateLimitDecision.Field.allCases {
                            blackHole(allowed.rateLimit.withValue(of: field) { $0.count &+ Int($0.last ?? 0) })
                        }
                    }
                }))
        // The same with every field as a `String` (`value(of:)`), as the Hummingbird and Vapor
        // middlewares add them to a response.
        benchmarks.append(
            Benchmark(
                "gate.allowed.values", baseline: "sha256.key",
                asyncBody: { iterations in
                    for _ in 0..<iterations {
                        guard case .allowed(let allowed) = try! await gate.evaluate(allowedRequest) else { continue }
                        for field in RateLimitDecision.Field.allCases {
                            blackHole(allowed.rateLimit.value(of: field)?.utf8.count ?? 0)
                        }
                    }
                }))
        // Two tasks at once, each with its own key (and its own stepping clock), over the same key
        // store and limiter store: what is shared between requests of different keys.
        let second = try! await manager.create(for: MerchantID("bench")!, name: "second", scopes: .all)
        let limits = InMemoryRateLimitStore<APIKeyID>()
        let pairs = [allowed, second].map { key in
            (
                RequestGate(keys: store, policy: .sentry, rateLimits: limits, clock: SteppingClock()),
                request(key.key.revealSecret())
            )
        }
        benchmarks.append(
            Benchmark(
                "gate.allowed.2threads", baseline: "gate.allowed", threads: 2,
                asyncBody: { iterations in
                    await withTaskGroup(of: Void.self) { group in
                        for (gate, request) in pairs {
                            group.addTask {
                                for _ in 0..<iterations { blackHole(try! await gate.evaluate(request)) }
                            }
                        }
                    }
                }))
        return benchmarks
    }
}

/// A monotonic clock one second later at every read, for single-threaded gate scenarios: a plain
/// counter, no atomic (only one task reads it at a time).
final class SteppingClock: MonotonicClock, @unchecked Sendable {
    private var milliseconds: UInt64 = 0

    func now() -> MonotonicInstant {
        milliseconds &+= 1_000
        return .milliseconds(milliseconds)
    }
}

/// A monotonic clock that never moves: cached entries stay fresh for the whole run.
struct FrozenClock: MonotonicClock {
    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: 1_000_000_000) }
}

/// A key store whose digest look-up suspends once before answering, as a database client's does.
struct SuspendingKeyStore: KeyStore {
    let base: InMemoryKeyStore

    init(_ base: InMemoryKeyStore) { self.base = base }

    func record(forDigest digest: KeyDigest) async throws -> KeyRecord? {
        await Task.yield()
        return await base.record(forDigest: digest)
    }
    func record(withID id: APIKeyID) async throws -> KeyRecord? { await base.record(withID: id) }
    func records(forMerchant merchantID: MerchantID) async throws -> [KeyRecord] {
        await base.records(forMerchant: merchantID)
    }
    func insert(_ record: KeyRecord) async throws { try await base.insert(record) }
    func replace(_ current: KeyRecord, with new: KeyRecord) async throws -> Bool {
        try await base.replace(current, with: new)
    }
    func remove(_ current: KeyRecord) async throws -> Bool { await base.remove(current) }
}
