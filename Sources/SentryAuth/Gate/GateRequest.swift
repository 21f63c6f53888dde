/// What the gate needs to know about a request, independent of any server framework.
///
/// ```swift
/// let request = GateRequest(
///     method: "GET", target: "/public/api/v1/customers?limit=10",
///     authorization: ["Bearer sntr_abcdefghijklmnopqrstuvwxyzDprpqN"],
///     clientAddress: try IPAddress("203.0.113.9"))
/// ```
public struct GateRequest: Sendable {
    /// The request method, case-sensitive (`GET`).
    public var method: String
    /// The raw request target, path and query (`/public/api/v1/customers/cus_1?expand=true`).
    public var target: String
    /// Every `Authorization` header value, in the order received (normally one).
    public var authorization: [String]
    /// The client's address, or `nil` when unknown (a key with an allowlist is then refused).
    public var clientAddress: IPAddress?
    /// The request's cost against the key's rate limit, or `nil` (the default) for the cost its
    /// route declares (``EndpointPolicy/Route/cost``, 1 unless the policy says otherwise).
    public var cost: Int?

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - target: The raw request target.
    ///   - authorization: Every `Authorization` header value.
    ///   - clientAddress: The client's address, if known.
    ///   - cost: The request's cost; `nil` (the default) for its route's cost.
    public init(method: String, target: String, authorization: [String], clientAddress: IPAddress?, cost: Int? = nil) {
        self.method = method
        self.target = target
        self.authorization = authorization
        self.clientAddress = clientAddress
        self.cost = cost
    }

    /// Creates a request whose client address is resolved from the peer address and forwarding
    /// headers (see ``ClientAddressResolver``).
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - target: The raw request target.
    ///   - authorization: Every `Authorization` header value.
    ///   - peer: The socket's remote address, as text (unparseable text counts as unknown).
    ///   - forwardedFor: Every `X-Forwarded-For` value.
    ///   - forwarded: Every `Forwarded` value.
    ///   - resolver: Which proxies to trust.
    ///   - cost: The request's cost; `nil` (the default) for its route's cost.
    public init(
        method: String, target: String, authorization: [String], peer: String?, forwardedFor: [String] = [],
        forwarded: [String] = [], resolver: ClientAddressResolver, cost: Int? = nil
    ) {
        let peerAddress = peer.flatMap { try? IPAddress($0) }
        self.init(
            method: method, target: target, authorization: authorization,
            clientAddress: resolver.resolve(peer: peerAddress, forwardedFor: forwardedFor, forwarded: forwarded),
            cost: cost)
    }
}
