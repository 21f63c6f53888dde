public import Logging
public import CoreMetrics
public import SentryAuth

/// Counts and logs the gate's decisions, for the server adapters.
///
/// - Metrics (swift-metrics): every decision increments `sentry_auth_decisions_total` with an
///   `outcome` dimension: `allowed`, `unauthorized`, `forbidden`, `not_found`,
///   `method_not_allowed`, `insufficient_scope`, `rate_limited` or `unavailable`; every refusal also
///   increments `sentry_auth_refusals_total` with a `reason` dimension (``reasonLabel(of:)``: why,
///   finer than the answer — an unknown, revoked, expired or malformed key, a failed store, …).
/// - Logs (swift-log): every refusal at `debug` level, with its reason and, once the key was found,
///   its key ID — never the key; a 503 (a store that failed) at `warning` level; a request the
///   router would have handed to another route than the policy's (a route table that disagrees with
///   the policy: a bug to fix) at `error` level, naming the router's template.
///
/// The eight counters are created once, so recording a decision costs one counter increment.
public struct DecisionObserver: Sendable {
    /// The counter's label.
    public static let metricLabel = "sentry_auth_decisions_total"
    /// The label of the refusals counter, by `reason`.
    public static let refusalMetricLabel = "sentry_auth_refusals_total"

    /// Every value of the refusals counter's `reason` dimension.
    public static let refusalReasons = [
        "missing_credentials", "malformed_authorization", "malformed_key", "unknown_key", "revoked_key", "expired_key",
        "address_not_allowed", "no_route", "method_not_allowed", "route_mismatch", "insufficient_scope",
        "rate_limited", "too_many_failed_authentications", "key_store_unavailable", "rate_limit_store_unavailable",
    ]

    private let allowed: Counter
    private let unauthorized: Counter
    private let forbidden: Counter
    private let notFound: Counter
    private let methodNotAllowed: Counter
    private let insufficientScope: Counter
    private let rateLimited: Counter
    private let unavailable: Counter
    private let refusals: [String: Counter]

    /// Creates an observer.
    ///
    /// - Parameter factory: Where the counters come from; the metrics system bootstrapped when the
    ///   observer is made, by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        func counter(_ outcome: String) -> Counter {
            Counter(label: Self.metricLabel, dimensions: [("outcome", outcome)], factory: factory)
        }
        allowed = counter("allowed")
        unauthorized = counter("unauthorized")
        forbidden = counter("forbidden")
        notFound = counter("not_found")
        methodNotAllowed = counter("method_not_allowed")
        insufficientScope = counter("insufficient_scope")
        rateLimited = counter("rate_limited")
        unavailable = counter("unavailable")
        refusals = Dictionary(
            uniqueKeysWithValues: Self.refusalReasons.map { reason in
                (reason, Counter(label: Self.refusalMetricLabel, dimensions: [("reason", reason)], factory: factory))
            })
    }

    /// The `reason` dimension of a refusal: one of ``refusalReasons``.
    ///
    /// - Parameter reason: Why the gate refused.
    /// - Returns: Its label.
    public static func reasonLabel(of reason: GateDecision.Refusal.Reason) -> String {
        switch reason {
        case .missingCredentials: "missing_credentials"
        case .malformedAuthorization: "malformed_authorization"
        case .invalidKey(.malformed): "malformed_key"
        case .invalidKey(.unknown): "unknown_key"
        case .invalidKey(.revoked): "revoked_key"
        case .invalidKey(.expired): "expired_key"
        case .addressNotAllowed: "address_not_allowed"
        case .noRoute: "no_route"
        case .methodNotAllowed: "method_not_allowed"
        case .routeMismatch: "route_mismatch"
        case .insufficientScope: "insufficient_scope"
        case .rateLimited: "rate_limited"
        case .tooManyFailedAuthentications: "too_many_failed_authentications"
        case .keyStoreUnavailable: "key_store_unavailable"
        case .rateLimitStoreUnavailable: "rate_limit_store_unavailable"
        }
    }

    /// The `outcome` dimension of a decision.
    ///
    /// - Parameter decision: A gate decision.
    /// - Returns: `allowed`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    ///   `insufficient_scope`, `rate_limited` or `unavailable`.
    public static func outcome(of decision: GateDecision) -> String {
        guard case .refused(let refusal) = decision else { return "allowed" }
        return switch refusal.code {
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .insufficientScope: "insufficient_scope"
        case .rateLimitExceeded: "rate_limited"
        case .serviceUnavailable: "unavailable"
        }
    }

    /// Counts a decision and logs a refusal at debug level.
    ///
    /// - Parameters:
    ///   - decision: The gate's decision.
    ///   - logger: The request's logger.
    public func record(_ decision: GateDecision, logger: Logger) {
        switch decision {
        case .allowed:
            allowed.increment()
        case .refused(let refusal):
            switch refusal.code {
            case .unauthorized: unauthorized.increment()
            case .forbidden: forbidden.increment()
            case .notFound: notFound.increment()
            case .methodNotAllowed: methodNotAllowed.increment()
            case .insufficientScope: insufficientScope.increment()
            case .rateLimitExceeded: rateLimited.increment()
            case .serviceUnavailable: unavailable.increment()
            }
            refusals[Self.reasonLabel(of: refusal.reason)]?.increment()
            let level: Logger.Level =
                switch refusal.reason {
                case .routeMismatch: .error
                case .keyStoreUnavailable, .rateLimitStoreUnavailable: .warning
                default: .debug
                }
            logger.log(
                level: level,
                "SentryAuth refused a request",
                metadata: [
                    "sentry_auth.status": "\(refusal.status)", "sentry_auth.code": "\(refusal.code.rawValue)",
                    "sentry_auth.reason": "\(Self.describe(refusal.reason))",
                    "sentry_auth.key_id": "\(refusal.keyID?.rawValue ?? "-")",
                ])
        }
    }

    /// A reason for logs: what was wrong, never the presented key (``KeyRejection`` and
    /// ``APIKeyFormatError`` never hold it).
    static func describe(_ reason: GateDecision.Refusal.Reason) -> String {
        switch reason {
        case .missingCredentials: "missing credentials"
        case .malformedAuthorization: "malformed Authorization header"
        case .invalidKey(let rejection): "invalid key: \(rejection)"
        case .addressNotAllowed: "client address not in the key's allowlist"
        case .noRoute: "no route"
        case .methodNotAllowed(let allowed):
            "method not allowed (allowed: \(allowed.map(\.rawValue).joined(separator: ", ")))"
        case .routeMismatch(let handler?):
            "the router would run the handler of \(handler), not the policy's route: fix the route table"
        case .routeMismatch(nil): "no handler for the policy's route: fix the route table"
        case .insufficientScope(let missing): "missing scopes \(missing.formatted)"
        case .rateLimited: "rate limited"
        case .tooManyFailedAuthentications: "too many failed authentications from the client address"
        case .keyStoreUnavailable: "the key store failed"
        case .rateLimitStoreUnavailable: "the rate-limit store failed"
        }
    }
}
