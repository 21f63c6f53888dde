#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth

/// `sentry-auth check`: what the gate answers for one request.
struct CheckCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth check --store FILE [--policy FILE] [--ip ADDRESS] [-H 'Authorization: Bearer KEY']
                                 METHOD TARGET

        Prints the gate's answer for one request (status line, headers, JSON body): credentials,
        then the key's IP allowlist, then the route, then scopes, then the rate limit (a fresh
        window: this one request). Exits 0 when the request is allowed, 1 when it is refused.

        Options:
          --store FILE      The key store file
          --policy FILE     An endpoint policy in JSON (default: the built-in Sentry policy)
          --ip ADDRESS      The client address (default: unknown, so keys with an allowlist are refused)
          -H HEADER         A request header 'Name: value'; Authorization is read, others are ignored
        """

    func run(_ arguments: [String]) async throws -> Int32 {
        let command = "check"
        let arguments = try Arguments(
            arguments, options: ["--store", "--policy", "--ip", "-H", "--header"], command: command)
        if arguments.wantsHelp {
            console.line(Self.help)
            return 0
        }
        let positionals = try arguments.positionals(exactly: 2, "METHOD and TARGET", command: command)
        let store = FileKeyStore(path: try arguments.required("--store", command: command))
        let policy = try Self.policy(try arguments.value("--policy", command: command))
        var address: IPAddress?
        if let text = try arguments.value("--ip", command: command) {
            do {
                address = try IPAddress(text)
            } catch {
                throw UsageError("--ip: \(error)", command: command)
            }
        }
        var authorization: [String] = []
        for header in arguments.all("-H") + arguments.all("--header") {
            guard let colon = header.firstIndex(of: ":") else {
                throw UsageError("-H takes 'Name: value'.", command: command)
            }
            if header[..<colon].lowercased() == "authorization" {
                authorization.append(String(header[header.index(after: colon)...]))
            }
        }
        let gate = RequestGate(keys: store, policy: policy, rateLimits: InMemoryRateLimitStore<APIKeyID>())
        let decision = try await failing {
            try await gate.evaluate(
                GateRequest(
                    method: positionals[0], target: positionals[1], authorization: authorization, clientAddress: address
                ))
        }
        console.line(ResponseText.render(decision))
        if case .allowed = decision { return 0 }
        return 1
    }

    static func policy(_ path: String?) throws -> EndpointPolicy {
        guard let path else { return .sentry }
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: path))
        } catch {
            throw CommandFailure(message: "cannot read the policy \(path).")
        }
        do {
            return try EndpointPolicy(json: data)
        } catch {
            throw CommandFailure(message: "\(path): \(error)")
        }
    }
}
