/// Which master serves each of a Redis Cluster's 16,384 hash slots: what `CLUSTER SLOTS` answers,
/// apart from any connection, so that tests drive it with recorded replies.
struct ClusterTopology: Sendable, Hashable {
    /// A node's address as the cluster announces it.
    struct Node: Sendable, Hashable, CustomStringConvertible {
        var host: String
        var port: Int

        /// `HOST:PORT`, IPv6 hosts in brackets.
        var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// Reads the `HOST:PORT` of a `MOVED` or `ASK` reply (`MOVED 3999 127.0.0.1:6381`); the host
        /// may be empty (a node that does not know its own address: the seed's host is meant).
        init?(redirection text: Substring, defaultHost: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (1...65_535).contains(port)
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host.isEmpty ? defaultHost : host
            self.port = port
        }

        init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The masters, in the order `CLUSTER SLOTS` first names them.
    private(set) var masters: [Node]
    /// For each slot, its master's index in ``masters``; -1 where no master serves the slot.
    private var owners: [Int16]

    /// The master of `slot`, if any serves it.
    func master(of slot: Int) -> Node? {
        let index = owners[slot]
        return index < 0 ? nil : masters[Int(index)]
    }

    /// How many slots have a master.
    var coveredSlots: Int { owners.count { $0 >= 0 } }

    /// Reads a `CLUSTER SLOTS` reply: an array of `[start, end, [host, port, id, …], replicas…]`.
    ///
    /// - Parameters:
    ///   - reply: The reply.
    ///   - defaultHost: The host a node means when it announces an empty one (the address the reply
    ///     came from).
    /// - Throws: ``RedisError/unexpectedReply(_:)`` for any other shape.
    init(slots reply: RESPValue, defaultHost: String) throws(RedisError) {
        guard case .array(let ranges?) = reply else { throw .unexpectedReply("CLUSTER SLOTS: an array of ranges") }
        masters = []
        owners = Array(repeating: -1, count: HashSlot.count)
        for range in ranges {
            guard case .array(let fields?) = range, fields.count >= 3, let start = fields[0].integer,
                let end = fields[1].integer, 0 <= start, start <= end, end < HashSlot.count,
                case .array(let master?) = fields[2], master.count >= 2, let host = master[0].string,
                let port = master[1].integer, (1...65_535).contains(port)
            else { throw .unexpectedReply("CLUSTER SLOTS: [start, end, [host, port, …], …] per range") }
            let index = self.index(of: Node(host: host.isEmpty || host == "?" ? defaultHost : host, port: Int(port)))
            for slot in Int(start)...Int(end) { owners[slot] = index }
        }
    }

    /// The same map with `slot` served by `node`: what a `MOVED` reply says, before the next refresh.
    mutating func move(_ slot: Int, to node: Node) {
        owners[slot] = index(of: node)
    }

    /// The master's index in ``masters``, appending it if it is new.
    private mutating func index(of node: Node) -> Int16 {
        if let known = masters.firstIndex(of: node) { return Int16(known) }
        masters.append(node)
        return Int16(masters.count - 1)
    }
}
