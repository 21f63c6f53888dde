#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The one call a server makes per request: credentials, client address, route, scopes and rate
/// limit, checked in that order, answered with a principal or a complete refusal.
///
/// ```swift
/// let gate = RequestGate(keys: InMemoryKeyStore(), policy: .sentry, rateLimits: InMemoryRateLimitStore())
/// let decision = try await gate.evaluate(GateRequest(
///     method: "GET", target: "/public/api/v1/customers", authorization: ["Bearer sntr_…"], clientAddress: nil))
/// switch decision {
/// case .allowed(let allowed): print(allowed.principal.merchantID)   // scope every query to it
/// case .refused(let refusal): print(refusal.status, refusal.body)    // send as is
/// }
/// ```
///
/// ## Evaluation order
///
/// 1. **Credentials** — exactly one `Authorization: Bearer <key>` header (scheme case-insensitive,
///    RFC 6750 §2.1), a key of the configured format, found by digest, confirmed in constant time,
///    neither revoked nor expired. Otherwise 401 `UNAUTHORIZED`, with
///    `WWW-Authenticate: Bearer realm="…"`, plus `error="invalid_token"` when a token was presented.
/// 2. **Client address** — the key's allowlist, if any, must contain it; an unknown address is
///    refused. Otherwise 403 `FORBIDDEN`.
/// 3. **Route** — the policy must have one for the method and canonical path. Otherwise 404
///    `NOT_FOUND` when no route has the path, or 405 `METHOD_NOT_ALLOWED` with `Allow` listing
///    the path's methods. When the server's router says which handler it will run
///    (``GateRequest/handler``), that handler must be the matched route's; otherwise 404 `NOT_FOUND`.
/// 4. **Scopes** — the key must hold every scope the route needs. Otherwise 403
///    `INSUFFICIENT_SCOPE`, naming the missing scopes, with
///    `WWW-Authenticate: Bearer realm="…", error="insufficient_scope", scope="…"`.
/// 5. **Rate limit** — only now is quota spent, so refused requests never consume it. A request
///    costs what its route declares (``EndpointPolicy/Route/cost``, 1 by default) unless the
///    request says otherwise. Otherwise 429 `RATE_LIMIT_EXCEEDED`, "Rate limit exceeded. Please
///    try again in N seconds.", with `Retry-After: N` and the rate-limit headers. A cost the key's
///    limit can never admit is a 429 too (retry after one window), never an error.
///
/// With a ``FailedAuthenticationLimit``, a client address that has presented too many unknown,
/// malformed, revoked or expired keys in a window gets 429 `RATE_LIMIT_EXCEEDED` for every request
/// whose key the gate could only confirm by asking the store: a flood of random keys costs the
/// store a few look-ups per address and window, not one per request.
///
/// A store that fails — the key database or a shared rate-limit store is down — gives 503
/// `SERVICE_UNAVAILABLE` with `Retry-After`, never 200 and never a misleading 401: a key that could
/// not be looked up is neither valid nor known to be invalid. Put a ``CachedKeyStore`` in front of a
/// remote key store so the keys it holds keep working through an outage, up to its freshness bound.
///
/// The gate is a value; every part it holds is `Sendable`, so any number of tasks may call
/// ``evaluate(_:)`` at once. It reads the monotonic clock once per request, and the wall clock only
/// for keys that have an expiry time.
public struct RequestGate: Sendable {
    /// Where keys are looked up.
    let keyLookup: any KeyLookup
    /// Which scopes each endpoint needs.
    public let policy: EndpointPolicy
    /// Where rate-limit state is kept.
    let limits: any RateLimitStore<APIKeyID>
    /// The clock for rate limiting.
    let monotonicClock: any MonotonicClock
    /// The clock for key expiry.
    let expiryClock: any WallClock
    /// The format of accepted keys.
    public let format: APIKeyFormat
    /// The `realm` of `WWW-Authenticate` challenges.
    public let realm: String
    /// Where allowed requests note their key's use, if anywhere.
    public let usage: KeyUsageRecorder?
    /// The limit on failed authentications per client address, if any.
    public let failedAuthentications: FailedAuthenticationLimit?
    /// How far ahead an allowed request's key announces its expiry (``GateDecision/Allowed/sunset``):
    /// a key that expires within this horizon, or is in a roll's grace period, is answered with
    /// `Deprecation` and `Sunset` headers. Seven days by default.
    public let sunsetWarning: Duration

    /// The default of ``sunsetWarning``: seven days.
    public static let defaultSunsetWarning = Duration.seconds(7 * 86_400)

    /// Where keys are looked up.
    @available(*, deprecated, message: "The gate's stores are its own: keep the store you passed to init.")
    public var keys: any KeyLookup { keyLookup }
    /// Where rate-limit state is kept.
    @available(*, deprecated, message: "The gate's stores are its own: keep the store you passed to init.")
    public var rateLimits: any RateLimitStore<APIKeyID> { limits }
    /// The clock for rate limiting.
    @available(*, deprecated, message: "The gate's clocks are its own: keep the clock you passed to init.")
    public var clock: any MonotonicClock { monotonicClock }
    /// The clock for key expiry.
    @available(*, deprecated, message: "The gate's clocks are its own: keep the clock you passed to init.")
    public var wallClock: any WallClock { expiryClock }

    /// The stores' synchronous forms (``ImmediateKeyLookup``, ``ImmediateRateLimitStore``), found once
    /// by protocol: a request they answer runs synchronously from start to end.
    private let synchronousKeys: (any StoredRecordLookup)?
    private let synchronousLimits: (any PrehashedRateLimitStore)?

    /// The `Retry-After` of a 503 `SERVICE_UNAVAILABLE`, in seconds: long enough for a database
    /// fail-over or restart, short enough that a client does not give up.
    public static let unavailableRetryAfterSeconds = 2

    /// Creates a gate.
    ///
    /// - Parameters:
    ///   - keys: The key store: any ``KeyLookup`` (every ``KeyStore`` is one).
    ///   - policy: The endpoint policy; deny by default.
    ///   - rateLimits: The rate-limit store.
    ///   - clock: The monotonic clock; ``SystemMonotonicClock`` by default.
    ///   - wallClock: The wall clock for expiry; ``SystemWallClock`` by default.
    ///   - format: The key format; ``APIKeyFormat/sentry`` by default.
    ///   - realm: The challenge realm; `Sentry Payments API` by default. Quotes and backslashes are dropped.
    ///   - usage: Where allowed requests note their key's use (last use), if anywhere; none by default.
    ///   - failedAuthentications: A limit on failed authentications per client address (see
    ///     ``FailedAuthenticationLimit``); none by default.
    ///   - sunsetWarning: See ``sunsetWarning``; seven days by default.
    public init(
        keys: some KeyLookup, policy: EndpointPolicy, rateLimits: some RateLimitStore<APIKeyID>,
        clock: any MonotonicClock = SystemMonotonicClock(),
        wallClock: any WallClock = SystemWallClock(), format: APIKeyFormat = .sentry,
        realm: String = "Sentry Payments API", usage: KeyUsageRecorder? = nil,
        failedAuthentications: FailedAuthenticationLimit? = nil, sunsetWarning: Duration = defaultSunsetWarning
    ) {
        self.failedAuthentications = failedAuthentications
        self.sunsetWarning = sunsetWarning
        self.keyLookup = keys
        self.policy = policy
        self.limits = rateLimits
        self.monotonicClock = clock
        self.expiryClock = wallClock
        self.format = format
        self.realm = realm.filter { $0 != "\"" && $0 != "\\" && !$0.isNewline }
        self.usage = usage
        self.synchronousKeys =
            keys as? any StoredRecordLookup ?? (keys as? any ImmediateKeyLookup).map(ImmediateLookupAdapter.init)
        self.synchronousLimits =
            rateLimits as? any PrehashedRateLimitStore
            ?? (rateLimits as? any ImmediateRateLimitStore<APIKeyID>).map(ImmediateLimitsAdapter.init)
    }

    /// Creates a gate for the keys a ``KeyManager`` makes: its store, wall clock and key format, so
    /// that the two never disagree (a custom format set on one and not the other would turn every
    /// key into a 401).
    ///
    /// ```swift
    /// let manager = KeyManager(store: InMemoryKeyStore(), format: try APIKeyFormat(prefix: "acme_live_", bodyLength: 40))
    /// let gate = RequestGate(manager: manager, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>())
    /// ```
    ///
    /// - Parameters:
    ///   - manager: The manager whose store, wall clock and format the gate uses.
    ///   - policy: The endpoint policy; deny by default.
    ///   - rateLimits: The rate-limit store.
    ///   - clock: The monotonic clock; ``SystemMonotonicClock`` by default.
    ///   - realm: The challenge realm; `Sentry Payments API` by default.
    ///   - usage: Where allowed requests note their key's use, if anywhere; none by default.
    ///   - failedAuthentications: A limit on failed authentications per client address; none by default.
    ///   - sunsetWarning: See ``sunsetWarning``; seven days by default.
    public init<Store: KeyStore>(
        manager: KeyManager<Store>, policy: EndpointPolicy, rateLimits: some RateLimitStore<APIKeyID>,
        clock: any MonotonicClock = SystemMonotonicClock(), realm: String = "Sentry Payments API",
        usage: KeyUsageRecorder? = nil, failedAuthentications: FailedAuthenticationLimit? = nil,
        sunsetWarning: Duration = defaultSunsetWarning
    ) {
        self.init(
            keys: manager.store, policy: policy, rateLimits: rateLimits, clock: clock, wallClock: manager.clock,
            format: manager.format, realm: realm, usage: usage, failedAuthentications: failedAuthentications,
            sunsetWarning: sunsetWarning)
    }

    /// Decides a request.
    ///
    /// - Parameter request: The request.
    /// - Returns: ``GateDecision/allowed(_:)`` with the principal, or ``GateDecision/refused(_:)`` with
    ///   the complete response. Every input, however malformed, gets one of these.
    /// - Throws: Only `CancellationError`, when the task is cancelled while a store is asked. A store
    ///   that fails gives a 503 refusal, not an error.
    public func evaluate(_ request: GateRequest) async throws -> GateDecision {
        // The steps run in synchronous code, which borrows the gate and the record; this async
        // function only carries a request across a store that suspends. (An async frame that used
        // them would copy them, retaining objects every request shares: the policy, the stores.)
        switch begin(request) {
        case .decided(let decision):
            return decision
        case .lookUp(let digest, let instant):
            let found: KeyRecord?
            do {
                found = try await keyLookup.record(forDigest: digest)
            } catch let error as CancellationError {
                throw error
            } catch {
                return .refused(unavailable(.keyStoreUnavailable, key: nil))
            }
            guard let found else { return .refused(failed(.invalidKey(.unknown), request, at: instant)) }
            // A store that suspends: one object per request, beside a round trip.
            switch proceed(request, stored: StoredRecord(found), digest: digest, at: instant) {
            case .decided(let decision): return decision
            case .limit(let pending): return try await limit(pending)
            }
        case .limit(let pending):
            return try await limit(pending)
        }
    }

    /// How far the synchronous part got.
    private enum Progress {
        /// Decided without suspending.
        case decided(GateDecision)
        /// Credentials checked; the key store must be asked asynchronously.
        case lookUp(KeyDigest, MonotonicInstant)
        /// Steps 1 to 4 passed; the rate-limit store must be asked asynchronously.
        case limit(PendingLimit)
    }

    /// What step 5 needs when the rate-limit store suspends.
    private struct PendingLimit {
        let stored: StoredRecord
        let match: EndpointMatch
        let cost: Int
        let instant: MonotonicInstant
    }

    /// What ``proceed(_:stored:digest:at:)`` leaves to do.
    private enum Remaining {
        case decided(GateDecision)
        case limit(PendingLimit)
    }

    /// Step 1, and everything after it that the stores can answer without suspending.
    @inline(never)
    private func begin(_ request: GateRequest) -> Progress {
        let instant = monotonicClock.now()

        // 1. Credentials: parsed, validated and hashed in place, in the header's own bytes.
        let digest: KeyDigest
        switch Self.presentedDigest(request.authorization, format: format) {
        case .success(let presented): digest = presented
        case .failure(.missing): return .decided(.refused(unauthorized(.missingCredentials, tokenPresented: false)))
        case .failure(.malformed):
            return .decided(.refused(failed(.malformedAuthorization, request, at: instant)))
        case .failure(.invalid(let error)):
            return .decided(.refused(failed(.invalidKey(.malformed(error)), request, at: instant)))
        }
        switch synchronousKeys?.storedAnswer(forDigest: digest) {
        case .some(.some(let stored)):
            switch proceed(request, stored: stored, digest: digest, at: instant) {
            case .decided(let decision): return .decided(decision)
            case .limit(let pending): return .limit(pending)
            }
        case .some(.none):
            return .decided(.refused(failed(.invalidKey(.unknown), request, at: instant)))
        case .none:
            // The store must be asked: not for an address that has failed too often, unless the
            // cache knows the key (a stale entry of a key that was valid: no flood guesses one).
            if let refusal = blockedAddress(request, at: instant),
                synchronousKeys?.holdsKnownEntry(forDigest: digest) != true
            {
                return .decided(.refused(refusal))
            }
            return .lookUp(digest, instant)
        }
    }

    /// The rest of step 1 (the record found for the digest) to step 5, if the rate-limit store can
    /// answer without suspending.
    private func proceed(
        _ request: GateRequest, stored: StoredRecord, digest: KeyDigest, at instant: MonotonicInstant
    ) -> Remaining {
        let record = stored.record
        let match: EndpointMatch
        switch admit(request, record: record, digest: digest, at: instant) {
        case .refused(let refusal): return .decided(.refused(refusal))
        case .admitted(let admitted): match = admitted
        }
        // 5. Rate limit: the only step that changes state.
        let cost = request.cost ?? match.cost
        if !(0...record.rateLimit.limit).contains(cost) {
            // A cost this key can never pay: refused, and nothing is spent.
            let decision = RateLimitDecision(
                isAllowed: false, limit: record.rateLimit, remaining: 0, resetAfter: record.rateLimit.window)
            return .decided(finish(record: record, match: match, decision: decision, at: instant))
        }
        guard let decision = synchronousLimits?.decision(for: stored, cost: cost, at: instant) else {
            return .limit(PendingLimit(stored: stored, match: match, cost: cost, instant: instant))
        }
        return .decided(finish(record: record, match: match, decision: decision, at: instant))
    }

    /// Step 5 through a rate-limit store that suspends.
    private func limit(_ pending: PendingLimit) async throws -> GateDecision {
        let record = pending.stored.record
        let decision: RateLimitDecision
        do {
            decision = try await limits.acquire(
                record.id, cost: pending.cost, limit: record.rateLimit, at: pending.instant)
        } catch let error as CancellationError {
            throw error
        } catch {
            return .refused(unavailable(.rateLimitStoreUnavailable, key: record.id))
        }
        return finish(record: record, match: pending.match, decision: decision, at: pending.instant)
    }

    /// What steps 1 to 4 decided.
    private enum Admission {
        case admitted(EndpointMatch)
        case refused(GateDecision.Refusal)
    }

    /// The rest of step 1 (the record found for the digest) and steps 2 to 4, which change nothing.
    private func admit(
        _ request: GateRequest, record: KeyRecord, digest: KeyDigest, at instant: MonotonicInstant
    ) -> Admission {
        // 1. The digest confirmed in constant time; the record's own rule for revocation and expiry.
        guard record.digest == digest else {
            return .refused(unauthorized(.invalidKey(.unknown), tokenPresented: true))
        }
        switch record.status(at: expiryClock.now()) {
        case .active: break
        case .revoked: return .refused(failed(.invalidKey(.revoked), request, at: instant))
        case .expired: return .refused(failed(.invalidKey(.expired), request, at: instant))
        }

        // 2. Client address.
        guard record.isAllowed(from: request.clientAddress) else {
            return .refused(
                refusal(.forbidden, "API key not allowed from this IP address.", .addressNotAllowed, key: record.id))
        }

        // 3. Route: the policy's, which must be the one the server's router runs.
        guard let match = policy.match(method: request.method, target: request.target) else {
            let allowed = policy.allowedMethods(target: request.target)
            guard !allowed.isEmpty else {
                return .refused(refusal(.notFound, Self.noEndpoint, .noRoute, key: record.id))
            }
            return .refused(
                refusal(
                    .methodNotAllowed, "The endpoint does not support this method.",
                    .methodNotAllowed(allowed: allowed), key: record.id,
                    extra: [HTTPHeaderField(name: "Allow", value: allowed.map(\.rawValue).joined(separator: ", "))]))
        }
        if let mismatch = Self.handlerMismatch(request, match: match, policy: policy) {
            return .refused(refusal(.notFound, Self.noEndpoint, mismatch, key: record.id))
        }

        // 4. Scopes.
        guard match.isAllowed(held: record.scopes) else {
            let missing = match.missingScopes(held: record.scopes)
            let needed = match.requiredScopes.scopes.map(\.name).joined(separator: " ")
            return .refused(
                refusal(
                    .insufficientScope, "API key missing required scopes for this endpoint: \(missing.formatted).",
                    .insufficientScope(missing: missing), key: record.id,
                    challenge: "Bearer realm=\"\(realm)\", error=\"insufficient_scope\", scope=\"\(needed)\""))
        }
        return .admitted(match)
    }

    static let noEndpoint = "No endpoint matches this method and path."

    /// Why the handler the server's router chose is not the route the policy matched, if it is not.
    static func handlerMismatch(_ request: GateRequest, match: EndpointMatch, policy: EndpointPolicy)
        -> GateDecision.Refusal.Reason?
    {
        switch request.handler {
        case .unchecked:
            return nil
        case .none:
            return .routeMismatch(handler: nil)
        case .template(let template):
            guard match.isSameRoute(asTemplate: template) else { return .routeMismatch(handler: template) }
            // A router may run the GET handler for HEAD: then HEAD and GET must be one policy route.
            if request.method == "HEAD", let get = policy.match(method: "GET", target: request.target),
                get.index != match.index
            {
                return .routeMismatch(handler: template)
            }
            return nil
        }
    }

    /// Step 5's outcome: 429 with the headers, or the principal.
    private func finish(
        record: KeyRecord, match: EndpointMatch, decision: RateLimitDecision, at instant: MonotonicInstant
    ) -> GateDecision {
        guard decision.isAllowed else {
            let seconds = decision.retryAfterSeconds ?? 1
            return .refused(
                refusal(
                    .rateLimitExceeded, "Rate limit exceeded. Please try again in \(seconds) seconds.", .rateLimited,
                    key: record.id, extra: decision.headers))
        }
        usage?.note(record.id, at: instant)
        let principal = Principal(merchantID: record.merchantID, keyID: record.id, scopes: record.scopes)
        // Most keys have no end: the wall clock is read only for those that do.
        let sunset =
            record.stopsWorkingAt == nil
            ? nil : KeySunset(record: record, at: expiryClock.now(), horizon: sunsetWarning)
        return .allowed(GateDecision.Allowed(principal: principal, match: match, rateLimit: decision, sunset: sunset))
    }

    /// Why no digest could be taken from the `Authorization` header.
    private enum CredentialFailure: Error {
        case missing
        case malformed
        case invalid(APIKeyFormatError)
    }

    /// The digest of the presented key, or why there is none.
    private static func presentedDigest(_ authorization: [String], format: APIKeyFormat) -> Result<
        KeyDigest, CredentialFailure
    > {
        BearerCredentials.withToken(of: authorization) { found in
            switch found {
            case .missing: return .failure(.missing)
            case .malformed: return .failure(.malformed)
            case .token(let token, _):
                do throws(APIKeyFormatError) {
                    try APIKey.validate(token, format: format)
                } catch {
                    return .failure(.invalid(error))
                }
                return .success(KeyDigest.SHA256.hash(UnsafeRawBufferPointer(token)))
            }
        }
    }

    /// A 401 for credentials that failed, counted against the client address (see
    /// ``FailedAuthenticationLimit``: once over it, the address's requests that would need a store
    /// look-up get 429 instead, in ``begin(_:)``; a failure found without one stays a 401).
    private func failed(_ reason: GateDecision.Refusal.Reason, _ request: GateRequest, at instant: MonotonicInstant)
        -> GateDecision.Refusal
    {
        if let limit = failedAuthentications, let address = request.clientAddress {
            limit.counter.recordFailure(address, at: instant)
        }
        return unauthorized(reason, tokenPresented: true)
    }

    /// The 429 for a client address over its ``FailedAuthenticationLimit``, or `nil`.
    private func blockedAddress(_ request: GateRequest, at instant: MonotonicInstant) -> GateDecision.Refusal? {
        guard let limit = failedAuthentications, let address = request.clientAddress,
            limit.counter.isBlocked(address, at: instant)
        else { return nil }
        let decision = RateLimitDecision(
            isAllowed: false, limit: limit.rateLimit, remaining: 0,
            resetAfter: .milliseconds(limit.counter.millisecondsLeft(at: instant)))
        let seconds = decision.retryAfterSeconds ?? 1
        return refusal(
            .rateLimitExceeded, "Rate limit exceeded. Please try again in \(seconds) seconds.",
            .tooManyFailedAuthentications, extra: decision.headers)
    }

    /// The 503 for a store that failed: the request is neither allowed nor refused on its merits.
    private func unavailable(_ reason: GateDecision.Refusal.Reason, key: APIKeyID?) -> GateDecision.Refusal {
        let seconds = Self.unavailableRetryAfterSeconds
        return refusal(
            .serviceUnavailable, "Service temporarily unavailable. Please try again in \(seconds) seconds.", reason,
            key: key, extra: [HTTPHeaderField(name: "Retry-After", value: String(seconds))])
    }

    private func unauthorized(_ reason: GateDecision.Refusal.Reason, tokenPresented: Bool) -> GateDecision.Refusal {
        let message = tokenPresented ? "Invalid API key." : "Missing API key."
        let challenge = "Bearer realm=\"\(realm)\"" + (tokenPresented ? ", error=\"invalid_token\"" : "")
        return refusal(.unauthorized, message, reason, challenge: challenge)
    }

    private func refusal(
        _ code: GateDecision.Refusal.Code, _ message: String, _ reason: GateDecision.Refusal.Reason,
        key: APIKeyID? = nil,
        challenge: String? = nil, extra: [HTTPHeaderField] = []
    ) -> GateDecision.Refusal {
        var headers = [HTTPHeaderField(name: "Content-Type", value: "application/json")]
        if let challenge { headers.append(HTTPHeaderField(name: "WWW-Authenticate", value: challenge)) }
        headers += extra
        return GateDecision.Refusal(code: code, message: message, reason: reason, headers: headers, keyID: key)
    }
}
