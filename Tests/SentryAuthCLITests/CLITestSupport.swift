import Foundation
import Testing

@testable import SentryAuth
@testable import SentryAuthCLI
import SentryAuthCommandLine

/// Output collected from one run of the command-line tool.
struct ToolRun {
    var status: Int32
    var output: String
    var error: String
    var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
}

/// Runs the tool in-process with the given arguments and standard input.
func runTool(_ arguments: [String], input: [String] = []) async -> ToolRun {
    let output = Locked("")
    let error = Locked("")
    let remaining = Locked(input)
    let console = Console(
        readLine: { remaining.withLock { $0.isEmpty ? nil : $0.removeFirst() } },
        write: { text in output.withLock { $0 += text } },
        writeError: { text in error.withLock { $0 += text } })
    let status = await CommandLineTool(console: console).run(arguments)
    return ToolRun(status: status, output: output.withLock { $0 }, error: error.withLock { $0 })
}

/// A fresh temporary directory, removed by the caller with `cleanUp`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sentry-auth-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

/// The built `sentry-auth` executable, next to the test bundle.
func toolExecutable() throws -> URL {
    let testBinary = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let candidate = testBinary.deletingLastPathComponent().appendingPathComponent("sentry-auth")
    try #require(FileManager.default.isExecutableFile(atPath: candidate.path), "sentry-auth is built next to the tests")
    return candidate
}

/// Runs the built executable as a child process.
func runProcess(_ arguments: [String], input: String = "") throws -> ToolRun {
    let process = Process()
    process.executableURL = try toolExecutable()
    process.arguments = arguments
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolRun(
        status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
        error: String(decoding: err, as: UTF8.self))
}
