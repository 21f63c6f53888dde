/// The gate's answer for one request.
public enum GateDecision: Sendable {
    /// The request may proceed, on behalf of this principal.
    case allowed(GateDecision.Allowed)
    /// The request is refused with this response.
    case refused(GateDecision.Refusal)

    /// The HTTP status: 200 for allowed (the handler decides the real one), else the refusal's.
    public var status: Int {
        switch self {
        case .allowed: 200
        case .refused(let refusal): refusal.status
        }
    }

    /// The headers to add to the response.
    public var headers: [HTTPHeaderField] {
        switch self {
        case .allowed(let allowed): allowed.headers
        case .refused(let refusal): refusal.headers
        }
    }
}
