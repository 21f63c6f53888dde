import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The store's Redis client: a stand-alone server or a Redis Cluster behind the same URL.
///
/// On first use it asks the configured node `CLUSTER SLOTS`. A server without cluster support says so
/// (or refuses the command to the ACL user, or does not know it) and every command goes to its
/// ``RedisConnectionPool``, as before clusters were known. A cluster
/// node answers with the slot map: each keyed command then goes to the master of its key's hash slot,
/// over a pool per master, and the client follows the cluster as it changes —
///
/// - `MOVED`: the slot's new master is written into the map and the command sent there; the whole
///   map is read again in the background.
/// - `ASK` (a slot in migration whose key is already on the target): `ASKING` and the command go to
///   the target on one connection, once; the map is unchanged.
/// - `TRYAGAIN` (a migration has moved some of a command's keys but not all; never for the store's
///   one-key script): retried after 10 ms.
/// - `CLUSTERDOWN`, `READONLY`, `MASTERDOWN`, `LOADING`: the map is read again, then one retry.
/// - No reply (a master down): the error is thrown at once — the store falls back — and the map is
///   read again in the background, so that the next command finds the promoted replica.
///
/// At most five sends per command; the map is also read again every ``refreshInterval``, and at most
/// once per ``minimumRefreshGap`` however many commands ask.
final class RedisClient: Sendable {
    /// How often the cluster's map is read again while commands flow.
    static let refreshInterval = Duration.seconds(5)
    /// The shortest time between two readings of the map.
    static let minimumRefreshGap = Duration.milliseconds(100)
    /// How many sends a command may take, redirections and retries included.
    static let maximumAttempts = 5

    private enum Mode: Sendable {
        case unknown
        case standalone
        case cluster(ClusterTopology)
    }

    /// How many redirections and retries the client has followed, for tests and operators.
    struct Redirections: Sendable, Hashable {
        /// `MOVED` replies followed.
        var moved = 0
        /// `ASK` replies followed.
        var ask = 0
        /// `TRYAGAIN` replies waited out.
        var tryAgain = 0
        /// Readings of the cluster's map (at start-up, periodic, or after a redirection or failure).
        var refreshes = 0
    }

    private struct State: Sendable {
        var mode = Mode.unknown
        var redirections = Redirections()
        var pools: [ClusterTopology.Node: RedisConnectionPool] = [:]
        var lastRefresh = NIODeadline.uptimeNanoseconds(0)
        var refreshing = false
        var isShutDown = false
    }

    let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let seed: RedisConnectionPool
    private let state = NIOLockedValueBox(State())

    init(configuration: RedisConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        self.seed = RedisConnectionPool(configuration: configuration, group: group)
    }

    /// Whether the server turned out to be a cluster (`nil` until the first command found out).
    var isCluster: Bool? {
        switch state.withLockedValue({ $0.mode }) {
        case .unknown: nil
        case .standalone: false
        case .cluster: true
        }
    }

    /// The masters of the cluster's current map (empty for a stand-alone server).
    var masters: [ClusterTopology.Node] {
        if case .cluster(let topology) = state.withLockedValue({ $0.mode }) { return topology.masters }
        return []
    }

    /// What the client has followed so far.
    var redirections: Redirections { state.withLockedValue { $0.redirections } }

    /// Sends a command and waits for its reply; an error reply is thrown as ``RedisError/server(_:)``.
    ///
    /// - Parameters:
    ///   - command: The command.
    ///   - key: A key the command touches, which picks the master in a cluster (all of a command's
    ///     keys must share a slot); `nil` for a command any node may answer.
    func send(_ command: RESPCommand, key: String?) async throws -> RESPValue {
        guard case .cluster(let topology) = try await mode() else { return try await seed.send(command) }
        let slot = key.map(HashSlot.of)
        if refreshIsDue() { startRefresh() }
        var map = topology
        var asking: ClusterTopology.Node?
        for attempt in 1...Self.maximumAttempts {
            guard let node = asking ?? slot.flatMap(map.master(of:)) ?? map.masters.first else {
                startRefresh()
                throw RedisError.unavailable("no master serves hash slot \(slot ?? 0)")
            }
            let pool = pool(for: node)
            do {
                if asking != nil { return try await pool.sendAsking(command) }
                return try await pool.send(command)
            } catch let error as RedisError {
                if error.isConnectionFailure { startRefresh() }
                guard attempt < Self.maximumAttempts, let message = error.serverMessage,
                    let redirection = ClusterRedirection(message: message, defaultHost: node.host)
                else { throw error }
                asking = nil
                switch redirection {
                case .moved(let movedSlot, let target):
                    map = record(movedSlot, movedTo: target) ?? map
                    startRefresh()
                case .ask(_, let target):
                    state.withLockedValue { $0.redirections.ask += 1 }
                    asking = target
                case .tryAgain:
                    state.withLockedValue { $0.redirections.tryAgain += 1 }
                    try await Task.sleep(for: .milliseconds(10))
                case .topologyChanged:
                    guard attempt == 1 else { throw error }
                    map = await refresh() ?? map
                }
            }
        }
        throw RedisError.unavailable("too many cluster redirections")
    }

    /// Sends a command to every master (or to the server), for `PING`: whether each answered `PONG`.
    func pingEveryMaster() async -> Bool {
        guard case .cluster(let topology)? = try? await mode() else {
            return (try? await seed.send(RESPCommand("PING")))?.string == "PONG"
        }
        for node in topology.masters {
            guard (try? await pool(for: node).send(RESPCommand("PING")))?.string == "PONG" else { return false }
        }
        return true
    }

    /// Closes every connection; later commands fail.
    func shutdown() async {
        let pools = state.withLockedValue { state in
            state.isShutDown = true
            return Array(state.pools.values)
        }
        await seed.shutdown()
        for pool in pools { await pool.shutdown() }
    }

    /// Stand-alone or cluster, asking the configured node the first time (and until it answers).
    private func mode() async throws -> Mode {
        let known = state.withLockedValue { $0.mode }
        if case .unknown = known {
            return try await discover()
        }
        return known
    }

    private func discover() async throws -> Mode {
        let mode: Mode
        do {
            let reply = try await seed.send(RESPCommand("CLUSTER", "SLOTS"))
            mode = .cluster(try ClusterTopology(slots: reply, defaultHost: configuration.host))
        } catch let error as RedisError where error.serverMessage.map(Self.meansStandalone) == true {
            mode = .standalone
        }
        state.withLockedValue { state in
            if case .unknown = state.mode { state.mode = mode }
            state.lastRefresh = .now()
        }
        return mode
    }

    /// Whether an error reply to `CLUSTER SLOTS` means a stand-alone server: cluster support disabled,
    /// the command renamed away or unknown (a compatible server), or an ACL user not allowed to run it
    /// (`NOPERM`: a user given only the commands the store runs).
    static func meansStandalone(_ message: String) -> Bool {
        message.contains("cluster support disabled") || message.hasPrefix("NOPERM")
            || message.hasPrefix("ERR unknown command") || message.hasPrefix("ERR unknown subcommand")
    }

    /// Writes a `MOVED` reply into the map; the map to go on with (`nil` if there is no map: the
    /// mode of a client never leaves `cluster` once set, so this does not happen).
    private func record(_ slot: Int, movedTo node: ClusterTopology.Node) -> ClusterTopology? {
        state.withLockedValue { state in
            guard case .cluster(var topology) = state.mode else { return nil }
            topology.move(slot, to: node)
            state.mode = .cluster(topology)
            state.redirections.moved += 1
            return topology
        }
    }

    private func refreshIsDue() -> Bool {
        state.withLockedValue { $0.lastRefresh + TimeAmount(Self.refreshInterval) < .now() && !$0.refreshing }
    }

    /// Reads the map again in the background, unless that happened less than ``minimumRefreshGap`` ago.
    private func startRefresh() {
        Task { _ = await refresh() }
    }

    /// Reads the map from the first master (then the configured node) that answers `CLUSTER SLOTS`
    /// with a map covering every slot; the new map, or `nil` when a refresh ran too recently or is
    /// running.
    private func refresh() async -> ClusterTopology? {
        let candidates: [ClusterTopology.Node]? = state.withLockedValue { state in
            guard !state.refreshing, !state.isShutDown,
                state.lastRefresh + TimeAmount(Self.minimumRefreshGap) <= .now(),
                case .cluster(let topology) = state.mode
            else { return nil }
            state.refreshing = true
            state.redirections.refreshes += 1
            return topology.masters
        }
        guard let candidates else { return nil }
        var found: ClusterTopology?
        defer {
            state.withLockedValue { state in
                state.refreshing = false
                state.lastRefresh = .now()
                if let found, !state.isShutDown { state.mode = .cluster(found) }
            }
        }
        for node in candidates + [ClusterTopology.Node(host: configuration.host, port: configuration.port)] {
            let pool = node.host == configuration.host && node.port == configuration.port ? seed : pool(for: node)
            guard let reply = try? await pool.send(RESPCommand("CLUSTER", "SLOTS")),
                let topology = try? ClusterTopology(slots: reply, defaultHost: node.host),
                topology.coveredSlots == HashSlot.count
            else { continue }
            found = topology
            return topology
        }
        return nil
    }

    /// The connection pool of a master, made on first use with the configuration's credentials.
    private func pool(for node: ClusterTopology.Node) -> RedisConnectionPool {
        if node.host == configuration.host && node.port == configuration.port { return seed }
        return state.withLockedValue { state in
            if let pool = state.pools[node] { return pool }
            if state.isShutDown { return seed }  // shut down: its commands fail
            var nodeConfiguration = configuration
            nodeConfiguration.host = node.host
            nodeConfiguration.port = node.port
            let pool = RedisConnectionPool(configuration: nodeConfiguration, group: group)
            state.pools[node] = pool
            return pool
        }
    }
}
