#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Where a command reads its input and writes its output; tests swap in buffers.
///
/// Everything written through it has its key-shaped text replaced (``SecretText``), whatever the
/// command echoes; ``secretLine(_:)`` is the one way to print a key, once, at creation or roll.
package struct Console: Sendable {
    /// Reads one line of standard input without its newline, or `nil` at the end.
    package var readLine: @Sendable () -> String?
    /// Writes to standard output, key-shaped text replaced.
    package let write: @Sendable (String) -> Void
    /// Writes to standard error, key-shaped text replaced.
    package let writeError: @Sendable (String) -> Void
    /// Writes to standard output as given.
    private let writeVerbatim: @Sendable (String) -> Void

    package init(
        readLine: @escaping @Sendable () -> String?, write: @escaping @Sendable (String) -> Void,
        writeError: @escaping @Sendable (String) -> Void
    ) {
        self.readLine = readLine
        self.write = { write(SecretText.redacted($0)) }
        self.writeError = { writeError(SecretText.redacted($0)) }
        self.writeVerbatim = write
    }

    /// Writes a line that holds a key, as it is: only for the key a command has just created or
    /// rolled, shown once.
    ///
    /// - Parameter text: The line.
    package func secretLine(_ text: String) { writeVerbatim(text + "\n") }

    package static let standard = Console(
        readLine: { Swift.readLine(strippingNewline: true) },
        write: { writeAll(1, $0) },
        writeError: { writeAll(2, $0) })

    /// Writes all of `text` to a file descriptor, unbuffered.
    private static func writeAll(_ descriptor: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    package func line(_ text: String = "") { write(text + "\n") }

    /// Writes what went wrong to standard error and returns the exit status: 2 with a pointer to
    /// the help for a ``UsageError``, a ``CommandFailure``'s own status, 3 for anything else.
    ///
    /// - Parameters:
    ///   - error: What a command threw.
    ///   - program: The program's name, for `Run 'PROGRAM COMMAND --help' for usage.`
    package func report(_ error: any Error, program: String) -> Int32 {
        switch error {
        case let error as UsageError:
            let help = error.command.isEmpty ? "\(program) --help" : "\(program) \(error.command) --help"
            writeError("error: \(TerminalText.escaped(error.message))\nRun '\(help)' for usage.\n")
            return ExitStatus.usage
        case let error as CommandFailure:
            writeError("error: \(TerminalText.escaped(error.message))\n")
            return error.status
        default:
            writeError("error: \(TerminalText.escaped(String(describing: error)))\n")
            return ExitStatus.operational
        }
    }
}

/// Bad usage: a message for standard error, and exit status 2.
package struct UsageError: Error {
    package let message: String
    package let command: String

    package init(_ message: String, command: String = "") {
        self.message = message
        self.command = command
    }
}

/// A failure while doing the work: exit status 1 for a refusal (an unknown key, a scope that may not
/// be added), 3 for an operational error (a store or policy file that cannot be read, written,
/// parsed or locked).
package struct CommandFailure: Error {
    package let message: String
    package let status: Int32

    package init(message: String, status: Int32 = ExitStatus.refused) {
        self.message = message
        self.status = status
    }
}

/// The exit statuses of every command.
package enum ExitStatus {
    /// Allowed, done, or nothing found.
    package static let success: Int32 = 0
    /// Refused (or, for `scan`, a key found).
    package static let refused: Int32 = 1
    /// Bad usage: an unknown option, a missing or malformed argument.
    package static let usage: Int32 = 2
    /// An operational error: a store or file that cannot be read, written, parsed or locked.
    package static let operational: Int32 = 3
}
