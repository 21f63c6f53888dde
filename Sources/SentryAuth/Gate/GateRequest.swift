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
    /// The handler the server's own router chose for the request, when the server routes with a
    /// table of its own: the gate then refuses a request whose handler is not the very route it
    /// authorized (see ``Handler``). ``Handler/unchecked`` by default.
    public var handler: Handler = .unchecked

    /// Which handler a server framework's router is about to run for a request.
    ///
    /// A framework adapter passes it so that the framework's route table and the policy can never
    /// disagree in the unsafe direction. Suppose an app registers `GET /customers/export` for
    /// `sales:read` holders beside the policy's `GET /customers/{id}` (`customer:read`): the
    /// policy matches `{id} = "export"`, the router runs the literal route. With
    /// `.template("/public/api/v1/customers/export")` the gate sees that the two differ and refuses
    /// the request (404 `NOT_FOUND`, reason ``GateDecision/Refusal/Reason/routeMismatch(handler:)``) before
    /// any scope is checked or any quota spent.
    ///
    /// For `HEAD`, which frameworks hand to the `GET` handler when there is no `HEAD` handler, a
    /// checked request also needs the policy's `HEAD` and `GET` of the path (when it has both) to
    /// be one route (`Route([.get, .head], …)`), so that the scopes checked are the scopes of the
    /// handler that runs.
    public enum Handler: Sendable, Hashable {
        /// The server does not say: the gate's own match decides alone (a server that routes by the
        /// gate's ``GateDecision/Allowed/match``, the command line).
        case unchecked
        /// The server's router has no handler for the method and path: nothing may be allowed.
        case none
        /// The server's router runs the handler registered for this template, written as the
        /// router writes it (`/public/api/v1/customers/{id}`, `:id`, `*`, `**`; see
        /// ``EndpointMatch/isSameRoute(asTemplate:)``).
        case template(String)
    }

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - target: The raw request target.
    ///   - authorization: Every `Authorization` header value.
    ///   - clientAddress: The client's address, if known.
    ///   - cost: The request's cost; `nil` (the default) for its route's cost.
    ///   - handler: The handler the server's router chose; ``Handler/unchecked`` by default.
    public init(
        method: String, target: String, authorization: [String], clientAddress: IPAddress?, cost: Int? = nil,
        handler: Handler = .unchecked
    ) {
        self.method = method
        self.target = target
        self.authorization = authorization
        self.clientAddress = clientAddress
        self.cost = cost
        self.handler = handler
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
