// libFuzzer targets for every parser and for the whole gate. Built by run.sh together with the
// library's sources into one binary (no unsafeFlags in Package.swift); FUZZ_TARGET picks the target.
// Each target checks an invariant, not only "no crash"; a failed invariant traps, which libFuzzer
// reports as a crash and saves the input.

import Dispatch
import Foundation

/// libFuzzer's entry point: runs the target named by `FUZZ_TARGET` on one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    switch FuzzTarget.selected {
    case .authorization: fuzzAuthorization(bytes)
    case .apiKey: fuzzAPIKey(bytes)
    case .scopes: fuzzScopes(bytes)
    case .address: fuzzAddress(bytes)
    case .prefix: fuzzPrefix(bytes)
    case .forwarded: fuzzForwarded(bytes)
    case .path: fuzzPath(bytes)
    case .policyJSON: fuzzPolicyJSON(bytes)
    case .gate: fuzzGate(bytes)
    }
    return 0
}

enum FuzzTarget: String, CaseIterable {
    case authorization, apiKey = "api-key", scopes, address, prefix, forwarded, path, policyJSON = "policy-json", gate

    static let selected: FuzzTarget = {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name)
        else {
            fatalError("Set FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }()
}

func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant failed: \(message())") }
}

/// Arbitrary bytes as text, the way a server would hand them over (invalid UTF-8 repaired).
func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

/// Whether `text` holds `part` as a byte sequence (Foundation's `contains` stops at NUL bytes).
func holds(_ text: some StringProtocol, _ part: some StringProtocol) -> Bool {
    Array(text.utf8).firstRange(of: Array(part.utf8)) != nil
}

/// Splits input into up to `count` fields at 0x00 bytes.
func fields(_ bytes: UnsafeBufferPointer<UInt8>, _ count: Int) -> [String] {
    bytes.split(separator: 0, maxSplits: count - 1, omittingEmptySubsequences: false).map(text)
}

// MARK: - Targets

func fuzzAuthorization(_ bytes: UnsafeBufferPointer<UInt8>) {
    let values = bytes.split(separator: 10, omittingEmptySubsequences: false).prefix(3).map(text)
    let parsed = BearerCredentials.parse(values)
    require(parsed == BearerCredentials.parse(values), "parsing is deterministic")
    if case .token(let token) = parsed {
        require(values.count == 1 && !token.isEmpty, "a token comes from exactly one value")
        require(!holds(token, " ") && !holds(token, ",") && !holds(token, "\t"), "a token is token68")
        require(values[0].utf8.count <= BearerCredentials.maximumLength, "the size limit holds")
    }
}

func fuzzAPIKey(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = text(bytes)
    do {
        let key = try APIKey(parsing: input)
        require(key.revealSecret() == input, "a parsed key is exactly its input")
        require(input.utf8.count == 37 && input.hasPrefix("sntr_"), "the format holds")
        require(key.hasValidChecksum, "a key the Sentry format accepts has a valid checksum")
        // Any one character changed (to another base64url character) breaks the checksum.
        var changed = Array(input.utf8)
        let position = 5 + Int(changed[5] % 32)
        changed[position] = changed[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        require((try? APIKey(parsing: text(changed))) == nil, "a one-character change is refused")
        require(key.digest == KeyDigest.SHA256.hash(Array(input.utf8)), "the digest is the input's SHA-256")
        require(!holds(key.description, input.dropFirst(5).prefix(28)), "the description is redacted")
    } catch {
        if input.utf8.count >= 12 {
            require(!holds(error.description, input), "an error never repeats the input")
        }
    }
}

func fuzzScopes(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = text(bytes)
    do {
        let set = try ScopeSet(parsing: input)
        let reparsed = try? ScopeSet(parsing: set.formatted)
        require(reparsed == set, "canonical text re-parses to the same set")
        for scope in set { require(holds(input, scope.name), "every scope was written") }
    } catch {
        require(error.description.utf8.count < 300, "messages are bounded")
    }
}

func fuzzAddress(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let address = try? IPAddress(text(bytes)) else { return }
    let reparsed = try? IPAddress(address.description)
    require(reparsed == address, "\(address) formats and re-parses to itself")
    require(address.unmapped.unmapped == address.unmapped, "unmapping is idempotent")
    if address.zone == nil {
        require(IPPrefix(single: address).contains(address), "an address is in its own /32 or /128")
    } else {
        require(!IPPrefix(single: address).contains(address), "a zoned address matches no prefix")
    }
}

func fuzzPrefix(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = text(bytes)
    do {
        let prefix = try IPPrefix(input)
        require((try? IPPrefix(prefix.description)) == prefix, "\(prefix) formats and re-parses to itself")
        require(prefix.contains(prefix.network) && prefix.contains(prefix.lastAddress), "a prefix holds its ends")
        let allowlist = IPAllowlist([prefix])
        // A mapped client is matched as IPv4, so only an entry written as (or normalized to) IPv4 holds it.
        let normalized = prefix.network.isIPv4Mapped && prefix.length >= 96
        for end in [prefix.network, prefix.lastAddress] {
            require(
                allowlist.contains(end) == (!end.isIPv4Mapped || normalized), "an allowlist holds its prefix: \(end)")
        }
        require(IPAllowlist(allowlist.prefixes) == allowlist, "the canonical cover is stable")
    } catch let error as IPAddressError {
        guard let suggestion = error.suggestedPrefix else { return }
        require((try? IPPrefix(suggestion)) != nil, "the suggested masked form \(suggestion) parses")
    } catch {
        return
    }
}

let trustedProxies = try! IPAllowlist(parsing: ["10.0.0.0/8", "2001:db8::/32"])

func fuzzForwarded(_ bytes: UnsafeBufferPointer<UInt8>) {
    let values = fields(bytes, 3)
    let peer = IPAddress(10, 0, 0, 1)
    for header in [ClientAddressResolver.Header.xForwardedFor, .forwarded] {
        let resolver = ClientAddressResolver(trustedProxies: trustedProxies, header: header)
        let untrusted = IPAddress(198, 51, 100, 7)
        require(
            resolver.resolve(peer: untrusted, forwardedFor: values, forwarded: values) == untrusted,
            "an untrusted peer is the client, whatever the headers say")
        let resolved = resolver.resolve(peer: peer, forwardedFor: values, forwarded: values)
        require(resolved == resolver.resolve(peer: peer, forwardedFor: values, forwarded: values), "deterministic")
        // The attack: whatever a client writes, a trusted proxy appends the real (untrusted) address
        // it saw, and that address is the answer — never the proxy, never an entry the client wrote.
        let appended = values + [header == .xForwardedFor ? "198.51.100.7" : "for=198.51.100.7"]
        require(
            resolver.resolve(peer: peer, forwardedFor: appended, forwarded: appended) == untrusted,
            "no client-written entry changes the address a trusted proxy appended")
        guard let resolved else { continue }
        require(resolved.zone == nil && !resolved.isIPv4Mapped, "a resolved client is a plain address")
        if trustedProxies.contains(resolved) {
            // Only a chain walked to its end, every hop a trusted, well-formed address, answers a trusted
            // address (its leftmost entry); a limit, a malformed hop or `unknown` gives nil instead.
            func parse(_ hop: some Collection<UInt8>) -> ClientAddressResolver.Hop {
                Array(hop).withUnsafeBufferPointer { hop in
                    header == .xForwardedFor
                        ? ClientAddressResolver.parseForwardedForEntry(hop)
                        : ClientAddressResolver.parseForwardedElement(hop)
                }
            }
            let hops = values.flatMap { $0.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) }
            require(hops.count <= ClientAddressResolver.maximumHops, "a trusted answer walked at most the hop limit")
            for hop in hops {
                guard case .address(let address) = parse(hop) else {
                    require(false, "a trusted answer comes from a chain of well-formed hops only")
                    return
                }
                require(trustedProxies.contains(address.unmapped), "a trusted answer comes from an all-trusted chain")
            }
            if let first = hops.first, case .address(let leftmost) = parse(first) {
                require(resolved == leftmost.unmapped, "an all-trusted chain resolves to its leftmost entry")
            } else {
                require(resolved == peer, "no header: the peer")
            }
            continue
        }
        // Spoofing resistance: once an untrusted hop answered, entries a client writes to its left change nothing.
        let joined = values.joined(separator: ",")
        let spoof = header == .xForwardedFor ? "127.0.0.1, 10.9.9.9, " : "for=127.0.0.1, for=10.9.9.9, "
        let spoofed = [spoof + joined]
        require(
            resolver.resolve(peer: peer, forwardedFor: spoofed, forwarded: spoofed) == resolved,
            "client-written entries left of the client never change the answer")
    }
}

func fuzzPath(_ bytes: UnsafeBufferPointer<UInt8>) {
    let parts = fields(bytes, 2)
    let method = parts.count > 1 ? parts[0] : "GET"
    let target = parts.last ?? ""
    guard let match = EndpointPolicy.sentry.match(method: method, target: target) else { return }
    // A match is canonical and rebuilds exactly from its template and parameters.
    let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
    var parameters = match.parameters.makeIterator()
    let rebuilt = match.route.template.split(separator: "/").map { segment -> Substring in
        segment.first == "{" ? (parameters.next()?.value ?? "") : segment
    }
    require("/" + rebuilt.joined(separator: "/") == path, "\(target) matched \(match.route.template) exactly")
    for forbidden in ["//", "/./", "/../", ";", "\\", "%2F", "%2f", "%2E", "%2e"] {
        require(!holds(path, forbidden) && !path.hasSuffix("/.") && !path.hasSuffix("/.."), "\(target) is canonical")
    }
    require(match.route.methods.contains { $0.rawValue == method }, "the method is listed")
    // A matched target has no fragment and no byte that cannot appear in a request-target, query included.
    require(
        !target.utf8.contains { $0 <= 0x20 || $0 >= 0x7f || $0 == UInt8(ascii: "#") },
        "\(target.debugDescription) is a valid request-target")
}

func fuzzPolicyJSON(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let policy = try? EndpointPolicy(json: Data(bytes)) else { return }
    let encoded = try! JSONEncoder().encode(policy)
    let decoded = try! EndpointPolicy(json: encoded)
    require(decoded.routes == policy.routes, "a loaded policy round-trips")
}

// MARK: - The whole gate

struct GateWorld: Sendable {
    let gate: RequestGate
    let keys: [String]
    let records: [KeyDigest: KeyRecord]

    static let shared: GateWorld = {
        let store = InMemoryKeyStore()
        var keys: [String] = ["sntr_abcdefghijklmnopqrstuvwxyzDprpqN"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3 { keys.append(APIKey.generate(using: &random).revealSecret()) }
        let setups: [(ScopeSet, [String], Int)] = [
            (.all, [], 100_000), ([.invoiceRead, .invoiceRemind], ["203.0.113.0/24"], 5), ([.salesRead], [], 2),
            ([], ["::/0"], 100),
        ]
        var records: [KeyDigest: KeyRecord] = [:]
        for (index, key) in keys.enumerated() {
            let (scopes, allow, limit) = setups[index]
            let digest = KeyDigest.SHA256.hash(Array(key.utf8))
            let record = KeyRecord(
                id: APIKeyID("key_fuzz\(index)")!, merchantID: MerchantID("merchant_\(index)")!, name: "fuzz",
                scopes: scopes,
                allowlist: try! IPAllowlist(parsing: allow),
                rateLimit: try! RateLimit(limit: limit, window: .seconds(60)),
                createdAt: Date(timeIntervalSince1970: 0), displayHint: "sntr_…", digest: digest)
            try! store.insertRecordForFuzzing(record)
            records[digest] = record
        }
        let gate = RequestGate(
            keys: store, policy: .sentry, rateLimits: InMemoryRateLimitStore<APIKeyID>(),
            clock: FrozenClock())
        return GateWorld(gate: gate, keys: keys, records: records)
    }()
}

extension InMemoryKeyStore {
    func insertRecordForFuzzing(_ record: KeyRecord) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Task {
            do { try await self.insert(record) } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}

func fuzzGate(_ bytes: UnsafeBufferPointer<UInt8>) {
    let world = GateWorld.shared
    let parts = fields(bytes, 4)
    guard parts.count == 4 else { return }
    // Method, target, Authorization (a byte 0x01 at the start picks a real key), address.
    var authorization = parts[2]
    if let first = authorization.utf8.first, first < 8 {
        authorization = "Bearer " + world.keys[Int(first) % world.keys.count] + String(authorization.dropFirst())
    }
    let request = GateRequest(
        method: parts[0], target: parts[1], authorization: authorization.isEmpty ? [] : [authorization],
        clientAddress: try? IPAddress(parts[3]))
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var answer: GateDecision?
    Task {
        answer = try? await world.gate.evaluate(request)
        done.signal()
    }
    done.wait()
    guard let decision = answer else { fatalError("the in-memory gate never throws for cost 1") }
    switch decision {
    case .allowed(let allowed):
        let token = authorization.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init) ?? ""
        let record = world.records[KeyDigest.SHA256.hash(Array(token.utf8))]
        require(record != nil, "an allowed request presented a known key")
        require(allowed.principal.merchantID == record!.merchantID, "the principal is the key's merchant")
        require(allowed.match.requiredScopes.isSubset(of: record!.scopes), "an allowed key holds the needed scopes")
        require(record!.isAllowed(from: request.clientAddress), "an allowed key is allowed from the address")
    case .refused(let refusal):
        require([401, 403, 404, 405, 429].contains(refusal.status), "a documented status")
        require(
            (refusal.status == 405) == refusal.headers.contains { $0.name == "Allow" }, "405 and only 405 has Allow")
        let body = try? JSONSerialization.jsonObject(with: Data(refusal.body.utf8)) as? [String: String]
        require(
            body?["error"] == refusal.code.rawValue && body?["message"] == refusal.message, "the body is valid JSON")
        require(refusal.headers.first?.value == "application/json", "Content-Type comes first")
        for key in world.keys { require(!holds(refusal.body, key.dropFirst(5)), "the body never holds a key") }
    }
}

/// A monotonic clock stopped at the origin (the fuzz binary is one module: no SentryAuthTesting).
struct FrozenClock: MonotonicClock {
    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: 0) }
}
