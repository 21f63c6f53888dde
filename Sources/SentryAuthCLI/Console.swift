#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Where a command reads its input and writes its output; tests swap in buffers.
struct Console: Sendable {
    /// Reads one line of standard input without its newline, or `nil` at the end.
    var readLine: @Sendable () -> String?
    /// Writes to standard output.
    var write: @Sendable (String) -> Void
    /// Writes to standard error.
    var writeError: @Sendable (String) -> Void

    static let standard = Console(
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

    func line(_ text: String = "") { write(text + "\n") }
}

/// Bad usage: a message for standard error, and exit status 2.
struct UsageError: Error {
    let message: String
    let command: String

    init(_ message: String, command: String = "") {
        self.message = message
        self.command = command
    }
}

/// A failure while doing the work: exit status 1 for a refusal (an unknown key, a scope that may not
/// be added), 3 for an operational error (a store or policy file that cannot be read, written,
/// parsed or locked).
struct CommandFailure: Error {
    let message: String
    let status: Int32

    init(message: String, status: Int32 = ExitStatus.refused) {
        self.message = message
        self.status = status
    }
}

/// The exit statuses of every command.
enum ExitStatus {
    /// Allowed, done, or nothing found.
    static let success: Int32 = 0
    /// Refused (or, for `scan`, a key found).
    static let refused: Int32 = 1
    /// Bad usage: an unknown option, a missing or malformed argument.
    static let usage: Int32 = 2
    /// An operational error: a store or file that cannot be read, written, parsed or locked.
    static let operational: Int32 = 3
}
