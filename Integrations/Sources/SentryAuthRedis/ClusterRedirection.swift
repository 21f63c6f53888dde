/// What a Redis Cluster error reply asks of the client, read from its text.
enum ClusterRedirection: Sendable, Hashable {
    /// `MOVED SLOT HOST:PORT`: the slot lives on another master now; update the map and send there.
    case moved(slot: Int, to: ClusterTopology.Node)
    /// `ASK SLOT HOST:PORT`: the slot is being migrated and this key is already on the target: send
    /// `ASKING` and then the command to the target, once, without changing the map.
    case ask(slot: Int, to: ClusterTopology.Node)
    /// `TRYAGAIN`: during a migration, some of the command's keys are on the source and some on the
    /// target; retry shortly.
    case tryAgain
    /// `CLUSTERDOWN`, `READONLY`, `MASTERDOWN` or `LOADING`: the node is not (or not yet) a master
    /// serving the slot; read the topology again before retrying.
    case topologyChanged

    /// Reads an error reply's text; `nil` for an error that is not about the cluster.
    ///
    /// - Parameters:
    ///   - message: The error reply, without its `-`.
    ///   - defaultHost: The host meant by an address with an empty one.
    init?(message: String, defaultHost: String) {
        let words = message.split(separator: " ", maxSplits: 2)
        switch words.first {
        case "MOVED", "ASK":
            guard words.count == 3, let slot = Int(words[1]), (0..<HashSlot.count).contains(slot),
                let node = ClusterTopology.Node(redirection: words[2], defaultHost: defaultHost)
            else { return nil }
            self = words[0] == "MOVED" ? .moved(slot: slot, to: node) : .ask(slot: slot, to: node)
        case "TRYAGAIN":
            self = .tryAgain
        case "CLUSTERDOWN", "READONLY", "MASTERDOWN", "LOADING":
            self = .topologyChanged
        default:
            return nil
        }
    }
}
