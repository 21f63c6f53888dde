#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SentryAuth

/// `keys create|list|revoke|roll|restrict|history`: manage keys wherever they are kept. The same code
/// serves `sentry-auth keys --store FILE` and `sentry-auth-server keys --postgres URL`.
///
/// ```swift
/// let status = await KeysCommand(program: "sentry-auth-server", location: postgresLocation).run(arguments)
/// ```
public struct KeysCommand<Store: KeyStore>: Sendable {
    let console: Console
    let program: String
    let location: KeyStoreLocation<Store>
    /// Where ``KeyStoreLocation/environmentVariable`` is looked up.
    let environment: [String: String]

    /// Creates the command for a program.
    ///
    /// - Parameters:
    ///   - program: The program's name, for the usage text.
    ///   - location: Where its keys are.
    public init(program: String, location: KeyStoreLocation<Store>) {
        self.init(console: .standard, program: program, location: location)
    }

    package init(
        console: Console, program: String, location: KeyStoreLocation<Store>,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.console = console
        self.program = program
        self.location = location
        self.environment = environment
    }

    /// Runs `keys ARGUMENTS` (the arguments after `keys`), writing to standard output and error.
    ///
    /// - Parameter arguments: The subcommand and its options.
    /// - Returns: The exit status: 0 done, 1 refused, 2 bad usage, 3 an operational error.
    public func run(_ arguments: [String]) async -> Int32 {
        do {
            return try await runThrowing(arguments)
        } catch {
            return console.report(error, program: program)
        }
    }

    /// The usage text.
    /// The help text's sentence on the location's environment variable, if it has one.
    private var environmentNote: String {
        guard let name = location.environmentVariable else { return "" }
        return "\n\n\(location.option) may be left out when \(name) is set in the environment; the option wins."
    }

    package var help: String {
        let store = "\(location.option) \(location.placeholder)"
        return """
            Usage: \(program) keys SUBCOMMAND \(store) [OPTIONS]

            Subcommands:
              create \(store) --merchant ID --scopes LIST [--allow CIDRS] [--limit N/SECONDS]
                     [--expires RFC3339] [--name NAME] [--key-from-stdin]
                         Create a key. The key is printed once, then its record; only its digest is stored.
                         With --key-from-stdin, store an existing key read from standard input instead
                         (never from the command line, where it would land in shell history); a key
                         made before checksums works only where the gate accepts legacy keys.
                         --expires is an RFC 3339 time: 2027-01-31T00:00:00Z, 2027-01-31T09:30:00.250+02:00.
                         A name is 1 to 100 printable characters (default "Key for MERCHANT").
              list \(store) [--merchant ID]
                         List the keys (never the keys themselves: hints and identifiers).
              revoke KEY-ID \(store)
                         Revoke a key, at once and for good.
              roll KEY-ID \(store) [--grace SECONDS]
                         Replace a key; the old one keeps working for the grace period (default 0), never
                         past its own expiry. The new key keeps the old key's expiry, if any. A key can be
                         rolled once: to roll again, roll its successor.
              restrict KEY-ID \(store) --scopes LIST
                         Narrow a key's scopes. Adding a scope is refused.
              history KEY-ID \(store)
                         Print every change to a key: when, what, and by whom (never the key).

            create, revoke, roll and restrict take --actor NAME: who is making the change, recorded in
            the key's history together with the change, in the same write.

            Scopes are comma-separated: customer:read,customer:write,invoice:read,invoice:write,
            invoice:remind,sales:read. \(location.notes)\(environmentNote)

            Exit status: 0 done, 1 refused (unknown key, revoked, scope escalation), 2 bad usage,
            3 a store that cannot be reached, read, written, parsed or locked.
            """
    }

    /// Runs the command, throwing ``UsageError`` and ``CommandFailure`` for the caller to report.
    package func runThrowing(_ arguments: [String]) async throws -> Int32 {
        guard let subcommand = arguments.first, !subcommand.hasPrefix("-") else {
            if arguments.contains("--help") || arguments.contains("-h") { return showHelp() }
            throw UsageError("expected a subcommand: create, list, revoke, roll, restrict or history.", command: "keys")
        }
        let rest = Array(arguments.dropFirst())
        let command = "keys"
        let option = location.option
        switch subcommand {
        case "create":
            let arguments = try Arguments(
                rest,
                options: [option, "--merchant", "--scopes", "--allow", "--limit", "--expires", "--name", "--actor"],
                flags: ["--key-from-stdin"], command: command)
            if arguments.wantsHelp { return showHelp() }
            _ = try arguments.positionals(exactly: 0, "no arguments", command: command)
            _ = try storeLocation(arguments)  // the store is named first
            guard let merchant = MerchantID(try arguments.required("--merchant", command: command)) else {
                throw UsageError("--merchant is 1 to 128 visible ASCII characters.", command: command)
            }
            let scopes = try Self.scopes(try arguments.required("--scopes", command: command))
            let allowlist = try Self.allowlist(try arguments.value("--allow", command: command))
            let limit = try Self.limit(try arguments.value("--limit", command: command))
            let expires = try arguments.value("--expires", command: command).map { text in
                do {
                    return try RFC3339Time.date(from: text)
                } catch {
                    throw UsageError("--expires: \(error)", command: command)
                }
            }
            let name = try arguments.value("--name", command: command) ?? "Key for \(merchant.rawValue.prefix(92))"
            guard KeyManager<InMemoryKeyStore>.isValidName(name) else {
                throw UsageError("--name is 1 to 100 printable characters.", command: command)
            }
            let actor = try Self.actor(arguments)
            if arguments.flags.contains("--key-from-stdin") {
                guard let line = console.readLine() else {
                    throw UsageError("--key-from-stdin: standard input is empty.", command: command)
                }
                let key: APIKey
                do {
                    key = try APIKey(parsing: line, format: .sentryAcceptingLegacyKeys)
                } catch {
                    throw UsageError("--key-from-stdin: \(error)", command: command)
                }
                return try await withStore(arguments) { [console] store in
                    let record = try await failing {
                        try await KeyManager(store: store, actor: actor).importKey(
                            key, for: merchant, name: name, scopes: scopes, allowlist: allowlist, rateLimit: limit,
                            expiresAt: expires)
                    }
                    console.line("imported:    a key read from standard input (not printed)")
                    if !key.hasValidChecksum {
                        console.line("             (no valid checksum: it works only where legacy keys are accepted)")
                    }
                    console.line(RecordText.render(record, at: Date()))
                    return ExitStatus.success
                }
            }
            return try await withStore(arguments) { [console] store in
                let created = try await failing {
                    try await KeyManager(store: store, actor: actor).create(
                        for: merchant, name: name, scopes: scopes, allowlist: allowlist, rateLimit: limit,
                        expiresAt: expires)
                }
                console.secretLine("key:         \(created.key.revealSecret())")
                console.line("             (shown once: only its SHA-256 digest is stored)")
                console.line(RecordText.render(created.record, at: Date()))
                return ExitStatus.success
            }
        case "list":
            let arguments = try Arguments(rest, options: [option, "--merchant"], command: command)
            if arguments.wantsHelp { return showHelp() }
            _ = try arguments.positionals(exactly: 0, "no arguments", command: command)
            let merchant = try arguments.value("--merchant", command: command)
            return try await withStore(arguments) { [console, location] store in
                var records = try await failing { try await location.allRecords(store) }
                if let merchant { records = records.filter { $0.merchantID.rawValue == merchant } }
                let now = Date()
                let rows =
                    [["ID", "MERCHANT", "NAME", "SCOPES", "STATUS", "HINT", "LAST USED"]]
                    + records.map {
                        [
                            $0.id.rawValue, $0.merchantID.rawValue, $0.name, $0.scopes.formatted,
                            Self.statusText($0, at: now),
                            $0.displayHint, $0.lastUsedAt.map(RecordText.time) ?? "never",
                        ].map { TerminalText.escaped($0) }
                    }
                let widths = (0..<7).map { column in rows.map { $0[column].count }.max() ?? 0 }
                for row in rows {
                    let cells = row.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }
                    console.line(cells.joined(separator: "  ").trimmingTrailingSpaces())
                }
                return ExitStatus.success
            }
        case "history":
            let arguments = try Arguments(rest, options: [option], command: command)
            if arguments.wantsHelp { return showHelp() }
            let id = try Self.keyID(try arguments.positionals(exactly: 1, "a KEY-ID", command: command)[0])
            return try await withStore(arguments) { [console] store in
                let events = try await failing { try await store.events(forKey: id) }
                guard !events.isEmpty else {
                    throw CommandFailure(message: "No history for the identifier \(id) in this store.")
                }
                for event in events {
                    var line = "\(RecordText.time(event.time))  \(event.kind)"
                    if let related = event.related { line += " \(related)" }
                    if let before = event.scopesBefore { line += "  scopes \(before.isEmpty ? "(none)" : before) →" }
                    if let after = event.scopesAfter {
                        line += (event.scopesBefore == nil ? "  scopes " : " ") + (after.isEmpty ? "(none)" : after)
                    }
                    line += "  by \(event.actor.map { TerminalText.escaped($0) } ?? "(unknown)")"
                    console.line(line)
                }
                return ExitStatus.success
            }
        case "revoke", "roll", "restrict":
            let options: Set<String> =
                subcommand == "roll"
                ? [option, "--grace", "--actor"]
                : subcommand == "restrict" ? [option, "--scopes", "--actor"] : [option, "--actor"]
            let arguments = try Arguments(rest, options: options, command: command)
            if arguments.wantsHelp { return showHelp() }
            let id = try Self.keyID(try arguments.positionals(exactly: 1, "a KEY-ID", command: command)[0])
            let actor = try Self.actor(arguments)
            let grace = try Self.seconds(try arguments.value("--grace", command: command) ?? "0", option: "--grace")
            let scopes =
                try subcommand == "restrict" ? Self.scopes(try arguments.required("--scopes", command: command)) : nil
            return try await withStore(arguments) { [console] store in
                let manager = KeyManager(store: store, actor: actor)
                switch subcommand {
                case "revoke":
                    let record = try await failing { try await manager.revoke(id) }
                    console.line(RecordText.render(record, at: Date()))
                case "roll":
                    let rolled = try await failing { try await manager.roll(id, grace: grace) }
                    let stops = rolled.previous.stopsWorkingAt.map { RecordText.time($0) } ?? "never"
                    console.secretLine("key:         \(rolled.key.revealSecret())")
                    console.line("             (shown once; the old key \(id) stops working at \(stops))")
                    console.line(RecordText.render(rolled.record, at: Date()))
                default:
                    let record = try await failing { try await manager.restrict(id, to: scopes ?? []) }
                    console.line(RecordText.render(record, at: Date()))
                }
                return ExitStatus.success
            }
        default:
            throw UsageError("unknown subcommand '\(subcommand)'.", command: command)
        }
    }

    private func showHelp() -> Int32 {
        console.line(help)
        return ExitStatus.success
    }

    /// Opens the store the arguments name and runs `body` with it. A value that cannot name a store
    /// is bad usage (exit 2); a store that cannot be reached is an operational error (exit 3).
    private func withStore(_ arguments: Arguments, _ body: @escaping @Sendable (Store) async throws -> Int32)
        async throws -> Int32
    {
        let value = try storeLocation(arguments)
        do {
            return try await location.open(value, body)
        } catch let error as KeyStoreLocationError {
            // A location from the environment is named as such: the option was not typed.
            let fromEnvironment = try arguments.value(location.option, command: "keys") == nil
            let description =
                fromEnvironment
                ? error.description.replacing(location.option, with: location.environmentVariable ?? location.option)
                : error.description
            throw UsageError(description, command: "keys")
        } catch let error as UsageError {
            throw error
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(error)
        }
    }

    /// The store's location: the option, or else the location's environment variable.
    private func storeLocation(_ arguments: Arguments) throws -> String {
        if let value = try arguments.value(location.option, command: "keys") { return value }
        if let name = location.environmentVariable, let value = environment[name], !value.isEmpty { return value }
        let alternative = location.environmentVariable.map { " (or \($0) in the environment)" } ?? ""
        throw UsageError("\(location.option)\(alternative) is required.", command: "keys")
    }

    /// The `--actor` option, checked.
    private static func actor(_ arguments: Arguments) throws -> String? {
        let actor = try arguments.value("--actor", command: "keys")
        if let actor, !KeyManager<InMemoryKeyStore>.isValidName(actor) {
            throw UsageError("--actor is 1 to 100 printable characters.", command: "keys")
        }
        return actor
    }

    /// The key identifier argument of revoke, roll and restrict. An argument that looks like an API
    /// key is a secret pasted in the wrong place: it is never printed back.
    package static func keyID(_ text: String) throws -> APIKeyID {
        if text.hasPrefix(APIKeyFormat.sentry.prefix) || (try? APIKey(parsing: text)) != nil {
            throw UsageError(
                "the argument looks like an API key (\(APIKeyFormat.sentry.prefix)…), not a key ID such as "
                    + "key_0123456789abcdef01234567; it was not printed. If it is a live key, roll it.",
                command: "keys")
        }
        guard let id = APIKeyID(text) else {
            throw UsageError(
                "'\(TerminalText.escaped(String(text.prefix(64))))' is not a key identifier.", command: "keys")
        }
        return id
    }

    package static func scopes(_ text: String) throws -> ScopeSet {
        do {
            return try ScopeSet(parsing: text)
        } catch {
            throw UsageError("--scopes: \(error)", command: "keys")
        }
    }

    /// A key's status in `keys list`: an active key that stops working within the gate's default
    /// warning horizon (or was rolled) says when, as its answers' `Sunset` header does.
    static func statusText(_ record: KeyRecord, at now: Date) -> String {
        let status = record.status(at: now)
        guard status == .active,
            let sunset = KeySunset(record: record, at: now, horizon: RequestGate.defaultSunsetWarning)
        else { return status.rawValue }
        let end = RFC3339Time.string(from: sunset.stopsWorkingAt)
        return sunset.reason == .rolled ? "rolled, works until \(end)" : "active, expires \(end)"
    }

    package static func allowlist(_ text: String?) throws -> IPAllowlist {
        guard let text else { return IPAllowlist() }
        do {
            return try IPAllowlist(parsingList: text)
        } catch {
            throw UsageError("--allow: \(error)", command: "keys")
        }
    }

    package static func limit(_ text: String?) throws -> RateLimit {
        guard let text else { return .default }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]) else {
            throw UsageError("--limit is N/SECONDS, such as 60/60.", command: "keys")
        }
        do {
            return try RateLimit(limit: count, window: try seconds(String(parts[1]), option: "--limit"))
        } catch let error as RateLimitError {
            throw UsageError("--limit: \(error)", command: "keys")
        }
    }

    package static func seconds(_ text: String, option: String) throws -> Duration {
        guard let value = Double(text), value.isFinite, value >= 0, value <= 365 * 86_400 else {
            throw UsageError("\(option) takes a number of seconds.", command: "keys")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}

/// Runs a store or lifecycle operation, turning its errors into a ``CommandFailure``: a refusal
/// (``KeyLifecycleError``) exits 1, anything else — a store that cannot be read, written, parsed or
/// locked — exits 3.
package func failing<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as UsageError {
        throw error
    } catch {
        throw CommandFailure(error)
    }
}

package func failing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw CommandFailure(error)
    }
}

extension CommandFailure {
    /// The failure for a store or lifecycle error.
    package init(_ error: any Error) {
        let status = error is KeyLifecycleError ? ExitStatus.refused : ExitStatus.operational
        self.init(message: "\(error)", status: status)
    }
}

extension String {
    package func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
