import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth allowlist`: check addresses against an allowlist.
struct AllowlistCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth allowlist --allow LIST

        Reads client addresses from standard input, one a line, and prints 'allow', 'deny' or
        'error: REASON' for each. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are matched as IPv4.

        Options:
          --allow LIST   Comma-separated prefixes and addresses: 10.0.0.0/8,2001:db8::/32,192.0.2.7
        """

    func run(_ arguments: [String]) throws -> Int32 {
        let arguments = try Arguments(arguments, options: ["--allow"], command: "allowlist")
        if arguments.wantsHelp {
            console.line(Self.help)
            return 0
        }
        _ = try arguments.positionals(exactly: 0, "no arguments", command: "allowlist")
        let allowlist: IPAllowlist
        do {
            allowlist = try IPAllowlist(parsingList: try arguments.required("--allow", command: "allowlist"))
        } catch let error as IPAddressError {
            throw UsageError("--allow: \(error)", command: "allowlist")
        }
        while let line = console.readLine() {
            do {
                console.line(allowlist.contains(try IPAddress(line)) ? "allow" : "deny")
            } catch {
                console.line("error: \(error)")
            }
        }
        return 0
    }
}
