import Foundation
import Synchronization
import IntegrationTestSupport
import MetricsTestKit
import SentryAuth
import Testing

@testable import SentryAuthRedis

/// Two instances' stores on a real Redis Cluster of three masters with a replica each, made by
/// `redis-cli --cluster create` (each test makes its own: about 3 s).
@Suite("Redis Cluster: slot routing, resharding and failover, against a real 3-master cluster", .serialized)
struct RedisClusterTests {
    /// Two stores (two instances) on the cluster, given the URL of one node each (any node will do).
    static func instances(_ cluster: RedisClusterTestServer, metrics: TestMetrics = TestMetrics()) throws
        -> [RedisRateLimitStore]
    {
        try [cluster.nodes[0], cluster.nodes[3]].map { node in
            RedisRateLimitStore(configuration: try RedisConfiguration(url: node.url), metricsFactory: metrics)
        }
    }

    /// Sends `requests` requests per key, alternating the two stores, the keys concurrently: how many
    /// each key had admitted, and when the last request was answered. `fault` runs beside the traffic,
    /// once every key has made a third of its requests, and the traffic goes on until it has ended.
    static func drive(
        _ stores: [RedisRateLimitStore], keys: [APIKeyID], requests: Int, pause: Duration = .zero,
        during fault: (@Sendable () async throws -> Void)? = nil
    ) async throws -> (admitted: [Int], lastAnswer: ContinuousClock.Instant) {
        let started = AsyncStream.makeStream(of: Void.self)
        let faultEnded = Flag(fault == nil)
        return try await withThrowingTaskGroup(of: (Int, Int, ContinuousClock.Instant)?.self) { group in
            if let fault {
                group.addTask {
                    var count = 0
                    for await _ in started.stream {
                        count += 1
                        if count == keys.count { break }
                    }
                    defer { faultEnded.set() }
                    try await fault()
                    return nil
                }
            }
            for (index, key) in keys.enumerated() {
                group.addTask {
                    var admitted = 0
                    var request = 0
                    while request < requests || !faultEnded.isSet {
                        defer { request += 1 }
                        if request == requests / 3 { started.continuation.yield() }
                        let decision = try await stores[request % 2].acquire(
                            key, cost: 1, limit: .default, at: .milliseconds(0))
                        if decision.isAllowed { admitted += 1 }
                        if pause > .zero { try await Task.sleep(for: pause) }
                    }
                    return (index, admitted, .now)
                }
            }
            var admitted = Array(repeating: 0, count: keys.count)
            var lastAnswer = ContinuousClock.now
            for try await result in group {
                if let (index, count, end) = result {
                    admitted[index] = count
                    lastAnswer = max(lastAnswer, end)
                }
            }
            return (admitted, lastAnswer)
        }
    }

    /// The first master, its replica, and those of 200 keys whose windows that master holds.
    static func keysOfOneMaster(_ cluster: RedisClusterTestServer, _ store: RedisRateLimitStore, prefix: String) throws
        -> (master: RedisTestServer, replica: RedisTestServer, keys: [APIKeyID])
    {
        let master = try cluster.masters()[0]
        let slots = try cluster.slots(servedBy: master)
        let keys = Self.keys(200, prefix: prefix).filter {
            slots.contains(HashSlot.of(store.redisKey(for: $0)))
        }
        return (master, try cluster.replica(of: master), keys)
    }

    static func keys(_ count: Int, prefix: String) -> [APIKeyID] {
        (0..<count).map {
            APIKeyID("key_\(prefix)" + String(repeating: "0", count: 20 - String($0).count) + String($0))!
        }
    }

    @Test("Two instances on a cluster: exactly 60 of 150 per key, keys on every master, no fallback")
    func exactLimitAcrossMasters() async throws {
        let cluster = try RedisClusterTestServer()
        let metrics = TestMetrics()
        let stores = try Self.instances(cluster, metrics: metrics)
        let keys = Self.keys(30, prefix: "spread")
        let (admitted, _) = try await Self.drive(stores, keys: keys, requests: 150)
        #expect(admitted == Array(repeating: 60, count: keys.count))
        #expect(try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue == 0)
        let masters = try cluster.masters()
        #expect(masters.count == 3)
        for master in masters {
            let size = Int(try master.cli("DBSIZE").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(size > 0, "every master holds some keys' windows (port \(master.port))")
        }
        // The windows live where CLUSTER KEYSLOT says, so the client's hash slots are the cluster's.
        let window = stores[0].redisKey(for: keys[0])
        #expect(try cluster.nodes[0].cli("CLUSTER", "KEYSLOT", window).contains(String(HashSlot.of(window))))
        for store in stores { await store.shutdown() }
    }

    @Test("A stand-alone Redis behind the same kind of URL is found to be one, and keeps working")
    func standaloneIsDetected() async throws {
        let redis = try RedisTestServer()
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        #expect(client.isCluster == nil)
        #expect(try await client.send(RESPCommand("SET", "a", "1"), key: "a").string == "OK")
        #expect(client.isCluster == false)
        await client.shutdown()
        // An ACL user given only what the store runs, CLUSTER refused (NOPERM): stand-alone too.
        let restricted = try RedisTestServer(extraArguments: [
            "--user", "default", "off", "--user", "limiter", "on", ">acl-Limiter-3", "~*", "&*", "+@all", "-cluster",
        ])
        let limiter = RedisClient(
            configuration: try RedisConfiguration(url: "redis://limiter:acl-Limiter-3@127.0.0.1:\(restricted.port)"))
        #expect(try await limiter.send(RESPCommand("SET", "a", "1"), key: "a").string == "OK")
        #expect(limiter.isCluster == false)
        await limiter.shutdown()
        #expect(RedisClient.meansStandalone("ERR This instance has cluster support disabled"))
        #expect(RedisClient.meansStandalone("ERR unknown command 'CLUSTER', with args beginning with: 'SLOTS' "))
        #expect(!RedisClient.meansStandalone("LOADING Redis is loading the dataset in memory"))
    }

    @Test("The client's slot of 2,000 random keys is CLUSTER KEYSLOT's (the cluster as oracle)")
    func slotsMatchTheCluster() async throws {
        let cluster = try RedisClusterTestServer()
        let client = RedisClient(configuration: try RedisConfiguration(url: cluster.url))
        var random = SplitMix64(seed: 23)
        var mismatches: [String] = []
        for _ in 0..<2_000 {
            let length = Int(random.next() % 24)
            let bytes = (0..<length).map { _ in UInt8(0x20 + random.next() % 95) }  // printable, braces included
            let key = String(decoding: bytes, as: UTF8.self)
            let reply = try await client.send(RESPCommand("CLUSTER", "KEYSLOT", key), key: nil)
            if reply.integer != Int64(HashSlot.of(key)) { mismatches.append("\(key): \(reply) vs \(HashSlot.of(key))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(client.isCluster == true && client.masters.count == 3)
        await client.shutdown()
    }

    @Test("Resharding 2,000 slots during traffic: exactly 60 per key, through MOVED and ASK")
    func reshardingDuringTraffic() async throws {
        let cluster = try RedisClusterTestServer()
        let metrics = TestMetrics()
        let stores = try Self.instances(cluster, metrics: metrics)
        let masters = try cluster.masters()
        // Keys in the source master's slots: about 2,000 of its 5,461 slots move.
        let sourceSlots = try cluster.slots(servedBy: masters[0])
        let keys = Self.keys(400, prefix: "reshard").filter {
            sourceSlots.contains(HashSlot.of(stores[0].redisKey(for: $0)))
        }
        let reshardEnded = Mutex<ContinuousClock.Instant?>(nil)
        let (admitted, lastAnswer) = try await Self.drive(stores, keys: keys, requests: 90, pause: .milliseconds(10)) {
            try cluster.reshard(from: masters[0], to: masters[1], slots: 2_000)
            reshardEnded.withLock { $0 = .now }
        }
        let redirections = stores.map(\.clusterRedirections)
        let ended = try #require(reshardEnded.withLock { $0 })
        let remaining = try cluster.slots(servedBy: masters[0])
        let moved = keys.filter { !remaining.contains(HashSlot.of(stores[0].redisKey(for: $0))) }
        print(
            "resharding: \(keys.count) keys, \(moved.count) of them moved; redirections \(redirections); "
                + "the traffic went on \(lastAnswer - ended) after it")
        // The traffic outlasted the resharding, which redirected it.
        #expect(ended < lastAnswer)
        #expect(redirections.map(\.moved).reduce(0, +) >= 20)
        #expect(moved.count >= 20, "keys whose slot moved during the traffic: \(moved.count) of \(keys.count)")
        #expect(admitted == Array(repeating: 60, count: keys.count))
        let fallbacks = try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue
        #expect(fallbacks == 0, "decisions made without Redis")
        for store in stores { await store.shutdown() }
    }

    /// Slots in migration: a key whose window has moved, and a key seen for the first time, both get
    /// `ASK` from the source, and `ASKING` and the call go to the target (the script's one key is
    /// never split between the two nodes, so there is no `TRYAGAIN`).
    @Test("Slots in migration: calls follow ASK to the target with ASKING, and the windows stay exact there")
    func askDuringMigration() async throws {
        let cluster = try RedisClusterTestServer()
        let store = try Self.instances(cluster)[0]
        let masters = try cluster.masters()
        let (source, target) = (masters[0], masters[1])
        let sourceSlots = try cluster.slots(servedBy: source)
        let keys = Self.keys(200, prefix: "ask").filter { sourceSlots.contains(HashSlot.of(store.redisKey(for: $0))) }
        let (moved, fresh) = (keys[0], keys[1])
        let slots = [moved, fresh].map { String(HashSlot.of(store.redisKey(for: $0))) }
        try #require(slots[0] != slots[1])
        var admitted = 0
        for _ in 0..<10 {
            if try await store.acquire(moved, cost: 1, limit: .default, at: .milliseconds(0)).isAllowed {
                admitted += 1
            }
        }
        // What redis-cli --cluster reshard does: mark the slots, then move their keys.
        for slot in slots {
            try target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", try cluster.id(of: source))
            try source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", try cluster.id(of: target))
        }
        #expect(
            try source.cli(
                "MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", store.redisKey(for: moved)
            )
            .hasPrefix("OK"))
        for _ in 0..<51 {
            if try await store.acquire(moved, cost: 1, limit: .default, at: .milliseconds(0)).isAllowed {
                admitted += 1
            }
        }
        #expect(admitted == 60)
        var freshAdmitted = 0
        for _ in 0..<61 {
            if try await store.acquire(fresh, cost: 1, limit: .default, at: .milliseconds(0)).isAllowed {
                freshAdmitted += 1
            }
        }
        #expect(freshAdmitted == 60)
        // One more for the first call: the target had not run the script, so EVALSHA got NOSCRIPT there
        // and the store sent EVAL, which the source redirected again.
        #expect(store.clusterRedirections.ask == 51 + 61 + 1)
        #expect(store.clusterRedirections.tryAgain == 0)
        #expect(!store.isUsingFallback)
        for slot in slots {
            #expect(try target.cli("CLUSTER", "COUNTKEYSINSLOT", slot).hasPrefix("1"))
            #expect(try source.cli("CLUSTER", "COUNTKEYSINSLOT", slot).hasPrefix("0"))
        }
        await store.shutdown()
    }

    /// A coordinated failover pauses the master's writes until the replica has them all and has won
    /// its election (80-140 ms measured here, under the 250 ms command timeout); a script call waits
    /// meanwhile, then gets `MOVED` to the new master.
    @Test(
        "A replica takes over with CLUSTER FAILOVER during traffic: exactly 60 per key, nothing decided without Redis")
    func coordinatedFailoverDuringTraffic() async throws {
        let cluster = try RedisClusterTestServer()
        let metrics = TestMetrics()
        let stores = try Self.instances(cluster, metrics: metrics)
        let (_, replica, keys) = try Self.keysOfOneMaster(cluster, stores[0], prefix: "failover")
        let took = Mutex<Duration>(.zero)
        let (admitted, _) = try await Self.drive(stores, keys: keys, requests: 90, pause: .milliseconds(10)) {
            let start = ContinuousClock.now
            try cluster.failover(to: replica)
            took.withLock { $0 = ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(try replica.cli("ROLE").hasPrefix("master"))
        let redirections = stores.map(\.clusterRedirections)
        let fallbacks = try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue
        print(
            "coordinated failover: \(keys.count) keys, failover took \(took.withLock { $0 }), "
                + "MOVED \(redirections.map(\.moved)), fallback decisions \(fallbacks)")
        #expect(redirections.map(\.moved).reduce(0, +) > 0, "the old master sent MOVED")
        #expect(admitted == Array(repeating: 60, count: keys.count))
        #expect(fallbacks == 0)
        for store in stores { await store.shutdown() }
    }

    /// A crashed master: until its replica is elected (node timeout 1 s: 3.0-3.3 s measured here), its
    /// slots get no answer and each instance decides alone from Redis's last answer, as with a
    /// stand-alone Redis down; asynchronous replication may also have lost the newest admissions.
    @Test(
        "A master killed (SIGKILL) during traffic: each instance goes on from Redis's last answer; at most twice the limit per key"
    )
    func crashedMasterDuringTraffic() async throws {
        let cluster = try RedisClusterTestServer()
        let metrics = TestMetrics()
        let stores = try Self.instances(cluster, metrics: metrics)
        let (master, replica, keys) = try Self.keysOfOneMaster(cluster, stores[0], prefix: "crash")
        let started = ContinuousClock.now
        let recovered = Mutex<Duration?>(nil)
        let (admitted, _) = try await Self.drive(stores, keys: keys, requests: 90, pause: .milliseconds(10)) {
            master.crash()
            try cluster.waitUntilMaster(replica)
            try cluster.waitUntilHealthy(except: [master])
            recovered.withLock { $0 = ContinuousClock.now - started }
            // Requests go on past the stores' retry interval (1 s), so that Redis decides again.
            try await Task.sleep(for: .seconds(2))
        }
        #expect(try replica.cli("ROLE").hasPrefix("master"))
        let over = admitted.map { $0 - 60 }
        let fallbacks = try metrics.expectCounter(RedisRateLimitStore.fallbackMetricLabel).totalValue
        print(
            "crashed master: \(keys.count) keys, admitted beyond 60: max \(over.max() ?? 0), mean "
                + "\(Double(over.reduce(0, +)) / Double(max(1, keys.count))), keys over: \(over.count { $0 > 0 }); "
                + "fallback decisions \(fallbacks); replica took over after \(recovered.withLock { $0 }!)")
        #expect(admitted.allSatisfy { $0 >= 60 && $0 <= 120 }, "\(admitted)")
        #expect(fallbacks > 0, "the instances decided without Redis while the master was down")
        // Redis decides again: a fresh key gets exactly its limit.
        let fresh = Self.keys(1, prefix: "after")
        let (afterwards, _) = try await Self.drive(stores, keys: fresh, requests: 100)
        #expect(afterwards == [60])
        for store in stores { await store.shutdown() }
    }
}

/// A flag set once, read by many tasks.
final class Flag: Sendable {
    private let value: Mutex<Bool>
    init(_ value: Bool) { self.value = Mutex(value) }
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
