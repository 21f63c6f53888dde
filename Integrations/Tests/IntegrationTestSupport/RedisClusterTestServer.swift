import Foundation

/// A Redis Cluster of Debian's `redis-server` on loopback: masters and one replica each, made with
/// `redis-cli --cluster create`, each node in its own temporary directory, with a node timeout of
/// 1 s (a replica takes over a dead master within a few seconds).
public final class RedisClusterTestServer: @unchecked Sendable {
    // @unchecked: the nodes are started and stopped only by the test that owns the cluster.
    /// Every node, masters and replicas; which is which changes with failovers (see ``role(of:)``).
    public let nodes: [RedisTestServer]

    /// `redis://127.0.0.1:PORT` of the first node: any node's URL reaches the whole cluster.
    public var url: String { nodes[0].url }

    /// Starts `masters` × 2 nodes and makes them a cluster with one replica per master, waiting until
    /// every node says `cluster_state:ok` (at most 30 s).
    ///
    /// - Parameters:
    ///   - masters: How many masters (3 at least, as `redis-cli --cluster create` requires).
    ///   - tls: With certificates, every node speaks TLS only (clients, the cluster bus and
    ///     replication) and announces the host name `localhost`, which the certificate names, as
    ///     `CLUSTER SLOTS` reports it (`cluster-preferred-endpoint-type hostname`).
    public init(masters: Int = 3, tls: TestCertificates? = nil) throws {
        let announce =
            tls == nil
            ? []
            : [
                "--tls-cluster", "yes", "--tls-replication", "yes", "--cluster-announce-hostname", "localhost",
                "--cluster-preferred-endpoint-type", "hostname",
            ]
        nodes = try (0..<(masters * 2)).map { _ in
            let busPort = try freeLoopbackPort()
            return try RedisTestServer(
                tls: tls,
                extraArguments: [
                    "--cluster-enabled", "yes", "--cluster-node-timeout", "1000", "--cluster-port", String(busPort),
                    "--cluster-config-file", "nodes-\(UUID().uuidString).conf",
                    // A replica's first sync at once, not after the default 5 s wait for other replicas:
                    // a replica that never synced refuses to take over.
                    "--repl-diskless-sync-delay", "0",
                ] + announce)
        }
        try runProgram(
            "/usr/bin/redis-cli",
            nodes[0].cliArguments + ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                + ["--cluster-replicas", "1", "--cluster-yes"])
        try waitUntilHealthy()
    }

    /// Waits until every running node says `cluster_state:ok` and every slot is served, and every
    /// running replica's link to its master is up (at most 30 s).
    ///
    /// - Parameter except: Nodes not to ask (stopped ones).
    public func waitUntilHealthy(except: [RedisTestServer] = []) throws {
        let deadline = Date().addingTimeInterval(30)
        for node in nodes where !except.contains(where: { $0 === node }) {
            while true {
                let info = (try? node.cli("CLUSTER", "INFO")) ?? ""
                let replication = (try? node.cli("INFO", "replication")) ?? ""
                let linked = replication.contains("role:master") || replication.contains("master_link_status:up")
                if info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384") && linked { break }
                guard Date() < deadline else {
                    throw TestServerError(description: "the cluster is not healthy after 30 s: \(info)")
                }
                usleep(50_000)
            }
        }
    }

    /// The nodes that are masters now, by `ROLE`.
    public func masters() throws -> [RedisTestServer] {
        try nodes.filter { try $0.cli("ROLE").hasPrefix("master") }
    }

    /// The master a replica follows, by `ROLE`'s reply (`slave`, host, port, …).
    public func master(of replica: RedisTestServer) throws -> RedisTestServer? {
        let lines = try replica.cli("ROLE").split(separator: "\n")
        guard lines.first == "slave", lines.count > 2, let port = Int(lines[2]) else { return nil }
        return nodes.first { $0.port == port }
    }

    /// The hash slots a master serves now, from its own line of `CLUSTER NODES`.
    public func slots(servedBy master: RedisTestServer) throws -> Set<Int> {
        let lines = try master.cli("CLUSTER", "NODES").split(separator: "\n")
        guard let own = lines.first(where: { $0.contains("myself") }) else { return [] }
        var slots = Set<Int>()
        // Fields 9 and on: `START-END` ranges, single slots, and `[SLOT->-ID]` migrations (skipped).
        for field in own.split(separator: " ").dropFirst(8) where !field.hasPrefix("[") {
            let bounds = field.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2 {
                slots.formUnion(bounds[0]...bounds[1])
            } else if bounds.count == 1 {
                slots.insert(bounds[0])
            }
        }
        return slots
    }

    /// Moves `count` slots from one master to another with `redis-cli --cluster reshard`, one key per
    /// `MIGRATE` (the slowest migration: traffic meets many slots while they migrate).
    public func reshard(from source: RedisTestServer, to target: RedisTestServer, slots count: Int) throws {
        try runProgram(
            "/usr/bin/redis-cli",
            source.cliArguments + [
                "--cluster", "reshard", "127.0.0.1:\(source.port)", "--cluster-from", try id(of: source),
                "--cluster-to", try id(of: target), "--cluster-slots", String(count), "--cluster-yes",
                "--cluster-pipeline", "1",
            ])
    }

    /// Makes a replica take over its master with `CLUSTER FAILOVER` (the coordinated kind: the
    /// master stops taking writes until the replica has them all), waiting until the replica says it
    /// is a master and the cluster is healthy (at most 30 s).
    public func failover(to replica: RedisTestServer) throws {
        try replica.cli("CLUSTER", "FAILOVER")
        try waitUntilMaster(replica)
        try waitUntilHealthy()
    }

    /// Waits until a replica says it is a master (at most 30 s): after ``failover(to:)``, or after its
    /// master was stopped and the cluster elected it.
    public func waitUntilMaster(_ replica: RedisTestServer) throws {
        let deadline = Date().addingTimeInterval(30)
        while (try? replica.cli("ROLE").hasPrefix("master")) != true {
            guard Date() < deadline else {
                throw TestServerError(description: "the replica on port \(replica.port) is not a master after 30 s")
            }
            usleep(20_000)
        }
    }

    /// A replica of `master`, by `ROLE`.
    public func replica(of master: RedisTestServer) throws -> RedisTestServer {
        guard let replica = try nodes.first(where: { try self.master(of: $0) === master }) else {
            throw TestServerError(description: "no replica follows the master on port \(master.port)")
        }
        return replica
    }

    /// A node's ID (`CLUSTER MYID`).
    public func id(of node: RedisTestServer) throws -> String {
        try node.cli("CLUSTER", "MYID").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
