#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth check`: what the gate answers for one request.
struct CheckCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth check --store FILE [--policy FILE] [-H 'Authorization: Bearer KEY'] [--accept-legacy-keys]
                                 [--ip ADDRESS | --peer ADDRESS [--trusted-proxy CIDRS]
                                  [--forwarded-for VALUE ... | --forwarded VALUE ...]]
                                 METHOD TARGET

        Prints the gate's answer for one request (status line, headers, JSON body): credentials,
        then the key's IP allowlist, then the route, then scopes, then the rate limit (a fresh
        window: this one request).

        The client address is either given directly (--ip) or resolved as a server behind proxies
        would: from the socket peer (--peer), walking the forwarding header right to left past the
        trusted proxies. The walk ends at the first untrusted address (the client); a chain of
        trusted addresses only resolves to its leftmost entry; a walk that stops before either (more
        than 64 hops, a malformed hop, 'unknown') leaves the client unknown, so a key with an
        allowlist is refused.

        Options:
          --store FILE            The key store file
          --policy FILE           An endpoint policy in JSON (default: the built-in Sentry policy)
          --ip ADDRESS            The client address, with no proxy in between
          --peer ADDRESS          The socket peer's address (a proxy, if it is trusted)
          --trusted-proxy CIDRS   Comma-separated proxies whose forwarding entries are believed
          --forwarded-for VALUE   An X-Forwarded-For header line; repeat for several lines
          --forwarded VALUE       A Forwarded (RFC 7239) header line; repeat for several lines
          -H HEADER               A request header 'Name: value'; Authorization is read, others are ignored
          --accept-legacy-keys    Also accept keys made before checksums (a migration setting)

        Exit status: 0 allowed, 1 refused, 2 bad usage, 3 a store or policy that cannot be read.
        """

    func run(_ arguments: [String]) async throws -> Int32 {
        let command = "check"
        let arguments = try Arguments(
            arguments,
            options: [
                "--store", "--policy", "--ip", "--peer", "--trusted-proxy", "--forwarded-for", "--forwarded", "-H",
                "--header",
            ],
            flags: ["--accept-legacy-keys"], secretOptions: ["-H", "--header"], command: command)
        if arguments.wantsHelp {
            console.line(Self.help)
            return ExitStatus.success
        }
        let positionals = try arguments.positionals(exactly: 2, "METHOD and TARGET", command: command)
        let store = try arguments.keyStoreFile(command: command)
        let address = try Self.clientAddress(arguments)
        var authorization: [String] = []
        for header in arguments.all("-H") + arguments.all("--header") {
            guard let colon = header.firstIndex(of: ":") else {
                throw UsageError("-H takes 'Name: value'.", command: command)
            }
            if header[..<colon].lowercased() == "authorization" {
                authorization.append(String(header[header.index(after: colon)...]))
            }
        }
        let policy = try Self.policy(try arguments.value("--policy", command: command))
        let format: APIKeyFormat =
            arguments.flags.contains("--accept-legacy-keys") ? .sentryAcceptingLegacyKeys : .sentry
        // The gate answers a store it cannot read with a 503; here that is an operational error (exit 3)
        // with the store's own message, so read the store once first.
        _ = try failing { try store.allRecords() }
        let gate = RequestGate(
            keys: store, policy: policy, rateLimits: InMemoryRateLimitStore<APIKeyID>(), format: format)
        let decision = try await failing {
            try await gate.evaluate(
                GateRequest(
                    method: positionals[0], target: positionals[1], authorization: authorization, clientAddress: address
                ))
        }
        console.line(TerminalText.escaped(ResponseText.render(decision), keepingNewlines: true))
        if case .allowed = decision { return ExitStatus.success }
        return ExitStatus.refused
    }

    /// The client address: `--ip` as given, or `--peer` resolved through the forwarding headers.
    static func clientAddress(_ arguments: Arguments) throws -> IPAddress? {
        let command = "check"
        func address(_ option: String) throws -> IPAddress? {
            guard let text = try arguments.value(option, command: command) else { return nil }
            do {
                return try IPAddress(text)
            } catch {
                throw UsageError("\(option): \(error)", command: command)
            }
        }
        let forwardedFor = arguments.all("--forwarded-for")
        let forwarded = arguments.all("--forwarded")
        let trusted = try arguments.value("--trusted-proxy", command: command)
        if let direct = try address("--ip") {
            guard try arguments.value("--peer", command: command) == nil, trusted == nil, forwardedFor.isEmpty,
                forwarded.isEmpty
            else {
                throw UsageError(
                    "--ip is a client with no proxy; use --peer with --trusted-proxy and forwarding headers instead.",
                    command: command)
            }
            return direct
        }
        guard let peer = try address("--peer") else {
            guard trusted == nil, forwardedFor.isEmpty, forwarded.isEmpty else {
                throw UsageError("--trusted-proxy, --forwarded-for and --forwarded need --peer.", command: command)
            }
            return nil
        }
        guard forwardedFor.isEmpty || forwarded.isEmpty else {
            throw UsageError(
                "a resolver reads one header: give --forwarded-for or --forwarded, not both.", command: command)
        }
        var proxies = IPAllowlist()
        do {
            if let trusted { proxies = try IPAllowlist(parsingList: trusted) }
        } catch {
            throw UsageError("--trusted-proxy: \(error)", command: command)
        }
        let resolver = ClientAddressResolver(
            trustedProxies: proxies, header: forwarded.isEmpty ? .xForwardedFor : .forwarded)
        return resolver.resolve(peer: peer, forwardedFor: forwardedFor, forwarded: forwarded)
    }

    static func policy(_ path: String?) throws -> EndpointPolicy {
        guard let path else { return .sentry }
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: path))
        } catch {
            throw CommandFailure(message: "cannot read the policy \(path).", status: ExitStatus.operational)
        }
        do {
            return try EndpointPolicy(json: data)
        } catch {
            throw CommandFailure(message: "\(path): \(error)", status: ExitStatus.operational)
        }
    }
}
