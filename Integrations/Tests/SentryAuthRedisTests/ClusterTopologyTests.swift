import Testing

@testable import SentryAuthRedis

@Suite("Redis Cluster slot map and redirections, from recorded replies")
struct ClusterTopologyTests {
    static func node(_ host: String, _ port: Int64, _ id: String) -> RESPValue {
        .array([.bulkString(Array(host.utf8)), .integer(port), .bulkString(Array(id.utf8))])
    }

    /// `CLUSTER SLOTS` of a three-master cluster with a replica each, as Redis 7 answers it.
    static let threeMasters = RESPValue.array([
        .array([.integer(0), .integer(5460), node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "d")]),
        .array([.integer(5461), .integer(10922), node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "e")]),
        .array([.integer(10923), .integer(16383), node("", 7002, "c"), node("127.0.0.1", 7003, "f")]),
    ])

    @Test("Each slot's master; an empty host is the host the reply came from")
    func slots() throws {
        let topology = try ClusterTopology(slots: Self.threeMasters, defaultHost: "10.0.0.9")
        #expect(topology.coveredSlots == 16_384)
        #expect(topology.masters.map(\.description) == ["127.0.0.1:7000", "127.0.0.1:7001", "10.0.0.9:7002"])
        #expect(topology.master(of: 0)?.port == 7000)
        #expect(topology.master(of: 5460)?.port == 7000)
        #expect(topology.master(of: 5461)?.port == 7001)
        #expect(topology.master(of: 16_383)?.port == 7002)
    }

    @Test("A MOVED reply moves one slot; a map with a gap says so")
    func movedAndGaps() throws {
        var topology = try ClusterTopology(slots: Self.threeMasters, defaultHost: "127.0.0.1")
        topology.move(5461, to: .init(host: "127.0.0.1", port: 7009))
        #expect(topology.master(of: 5461)?.port == 7009)
        #expect(topology.master(of: 5462)?.port == 7001)
        let partial = try ClusterTopology(
            slots: .array([.array([.integer(0), .integer(99), Self.node("127.0.0.1", 7000, "a")])]),
            defaultHost: "127.0.0.1")
        #expect(partial.coveredSlots == 100)
        #expect(partial.master(of: 100) == nil)
    }

    @Test(
        "Malformed replies are typed errors, not crashes",
        arguments: [
            RESPValue.simpleString("OK"),
            .array([.array([.integer(0), .integer(16_384), node("h", 1, "a")])]),
            .array([.array([.integer(5), .integer(4), node("h", 1, "a")])]),
            .array([.array([.integer(0), .integer(1), node("h", 0, "a")])]),
            .array([.array([.integer(0), .integer(1)])]),
            .array([.array([.integer(-1), .integer(1), node("h", 1, "a")])]),
        ])
    func malformed(reply: RESPValue) {
        #expect(throws: RedisError.self) { try ClusterTopology(slots: reply, defaultHost: "127.0.0.1") }
    }

    @Test("Error replies: MOVED, ASK, TRYAGAIN, the topology errors, and others left alone")
    func redirections() {
        #expect(
            ClusterRedirection(message: "MOVED 3999 127.0.0.1:6381", defaultHost: "x")
                == .moved(slot: 3999, to: .init(host: "127.0.0.1", port: 6381)))
        #expect(
            ClusterRedirection(message: "ASK 3999 [::1]:6381", defaultHost: "x")
                == .ask(slot: 3999, to: .init(host: "::1", port: 6381)))
        #expect(
            ClusterRedirection(message: "MOVED 1 :7000", defaultHost: "10.1.1.1")
                == .moved(slot: 1, to: .init(host: "10.1.1.1", port: 7000)))
        #expect(
            ClusterRedirection(message: "TRYAGAIN Multiple keys request during rehashing of slot", defaultHost: "x")
                == .tryAgain)
        for message in [
            "CLUSTERDOWN The cluster is down", "READONLY You can't write against a read only replica.",
            "LOADING Redis is loading the dataset in memory", "MASTERDOWN Link with MASTER is down",
        ] {
            #expect(ClusterRedirection(message: message, defaultHost: "x") == .topologyChanged)
        }
        for message in [
            "MOVED 16384 127.0.0.1:1", "MOVED x 127.0.0.1:1", "ASK 1 127.0.0.1", "MOVED 1 h:70000",
            "NOSCRIPT No matching script", "ERR unknown command", "MOVED",
        ] {
            #expect(ClusterRedirection(message: message, defaultHost: "x") == nil, "\(message)")
        }
    }
}
