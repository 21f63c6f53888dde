import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth digest`: the SHA-256 of each key on standard input.
struct DigestCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth digest [--prefix PREFIX --length N]

        Reads API keys from standard input, one a line, and prints the lowercase hex SHA-256 of each
        (what a key store keeps), or 'error: REASON' for a line that is not a key, and goes on.
        Keys are parsed strictly: no surrounding spaces. The reason never repeats the input. Sentry
        keys made before checksums are accepted too (this is how their digests are found).

        Options:
          --prefix PREFIX   Key prefix (default sntr_)
          --length N        Characters after the prefix (default 32)
        """

    func run(_ arguments: [String]) throws -> Int32 {
        let arguments = try Arguments(arguments, options: ["--prefix", "--length"], command: "digest")
        if arguments.wantsHelp {
            console.line(Self.help)
            return 0
        }
        _ = try arguments.positionals(exactly: 0, "no arguments", command: "digest")
        let format = try KeyFormatOption.parse(arguments, command: "digest")
        while let line = console.readLine() {
            do {
                console.line(try APIKey(parsing: line, format: format).digest.hex)
            } catch {
                console.line("error: \(error)")
            }
        }
        return 0
    }
}

enum KeyFormatOption {
    static func parse(_ arguments: Arguments, command: String) throws -> APIKeyFormat {
        let prefix = try arguments.value("--prefix", command: command)
        let length = try arguments.value("--length", command: command)
        guard prefix != nil || length != nil else { return .sentryAcceptingLegacyKeys }
        guard let bodyLength = Int(length ?? "32") else {
            throw UsageError("--length must be a number.", command: command)
        }
        do {
            return try APIKeyFormat(prefix: prefix ?? "sntr_", bodyLength: bodyLength)
        } catch {
            throw UsageError("\(error)", command: command)
        }
    }
}
