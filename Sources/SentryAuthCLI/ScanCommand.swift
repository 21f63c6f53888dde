import Foundation  // FileManager's directory walk (FoundationEssentials has none)
import SentryAuth
import SentryAuthCommandLine

/// `sentry-auth scan`: finds Sentry keys in files, by their shape and checksum, without printing them.
struct ScanCommand {
    let console: Console

    static let help = """
        Usage: sentry-auth scan [--store FILE] [--include-unchecksummed] [PATH ...]

        Finds Sentry API keys in files and directories (standard input when no path is given),
        skipping .git directories and binary files (a NUL byte in the first 8 KiB). A key is
        'sntr_' and 32 base64url characters, not inside a longer run of base64url characters;
        its last 6 characters must be the checksum of the rest (see the README's key format).
        Each finding is printed as

            PATH:LINE:COLUMN: sntr_…ABCD checksum ok

        (COLUMN counts bytes from 1), with only the key's hint, never the key. With --store, each
        finding also says whether the key is live, revoked (or expired) or unknown in that store.

        Options:
          --store FILE              A key store to look the found keys up in (by digest)
          --include-unchecksummed   Also report 37-character sntr_ strings whose checksum fails
                                    (keys made before checksums, or mistyped ones)

        Exit status: 0 no key found, 1 a key with a valid checksum found (a CI guard), 2 bad usage,
        3 a path or store that cannot be read.
        """

    /// One key-shaped string found in a file.
    struct Finding: Equatable {
        var line: Int
        var column: Int
        var hint: String
        var checksumHolds: Bool
        var digest: KeyDigest
    }

    func run(_ arguments: [String]) async throws -> Int32 {
        let command = "scan"
        let arguments = try Arguments(
            arguments, options: ["--store"], flags: ["--include-unchecksummed"], command: command)
        if arguments.wantsHelp {
            console.line(Self.help)
            return ExitStatus.success
        }
        let includeUnchecksummed = arguments.flags.contains("--include-unchecksummed")
        let store =
            try arguments.value("--store", command: command) == nil
            ? nil : try arguments.keyStoreFile(command: command)
        var sources: [(name: String, bytes: [UInt8])] = []
        if arguments.positionals.isEmpty {
            var lines: [String] = []
            while let line = console.readLine() { lines.append(line) }
            sources.append(("(standard input)", Array(lines.joined(separator: "\n").utf8)))
        } else {
            for path in arguments.positionals {
                sources += try Self.files(under: path)
            }
        }
        var found = false
        for (name, bytes) in sources where !Self.isBinary(bytes) {
            for finding in Self.findings(in: bytes) where finding.checksumHolds || includeUnchecksummed {
                if finding.checksumHolds { found = true }
                var line =
                    "\(TerminalText.escaped(name)):\(finding.line):\(finding.column): \(finding.hint) "
                    + (finding.checksumHolds ? "checksum ok" : "checksum invalid")
                if let store {
                    line += " " + (try await Self.status(of: finding.digest, in: store))
                }
                console.line(line)
            }
        }
        return found ? ExitStatus.refused : ExitStatus.success
    }

    /// Whether the key with this digest is live, revoked (or expired) or unknown in the store.
    static func status(of digest: KeyDigest, in store: FileKeyStore) async throws -> String {
        let record = try await failing { try await store.record(forDigest: digest) }
        guard let record else { return "unknown" }
        let status = record.status(at: Date())
        return status == .active ? "live" : status.rawValue
    }

    /// Every regular file at or under `path`, in path order, without `.git` directories.
    static func files(under path: String) throws -> [(name: String, bytes: [UInt8])] {
        guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType else {
            throw CommandFailure(
                message: "\(TerminalText.escaped(String(path.prefix(200)))): no such file or directory.",
                status: ExitStatus.operational)
        }
        guard type == .typeDirectory else { return type == .typeRegular ? [(path, try read(path))] : [] }
        // Depth first, in name order; symbolic links are not followed, .git directories not entered.
        var paths: [String] = []
        var pending = [path]
        while let directory = pending.popLast() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names.sorted().reversed() where name != ".git" {
                let full = (directory.hasSuffix("/") ? directory : directory + "/") + name
                switch (try? FileManager.default.attributesOfItem(atPath: full))?[.type] as? FileAttributeType {
                case .typeDirectory?: pending.append(full)
                case .typeRegular?: paths.append(full)
                default: break
                }
            }
        }
        return try paths.sorted().map { ($0, try read($0)) }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(
                message: "\(TerminalText.escaped(String(path.prefix(200)))): cannot be read.",
                status: ExitStatus.operational)
        }
        return Array(data)
    }

    /// A file with a NUL byte in its first 8 KiB is binary (as git and grep decide).
    static func isBinary(_ bytes: [UInt8]) -> Bool { bytes.prefix(8192).contains(0) }

    /// Every `sntr_` + 32 base64url characters not inside a longer base64url run, with its position.
    static func findings(in bytes: [UInt8]) -> [Finding] {
        let prefix = Array("sntr_".utf8)
        let length = prefix.count + 32
        var results: [Finding] = []
        var line = 1
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            if bytes[index] == prefix[0], index + length <= bytes.count,
                bytes[index..<index + prefix.count].elementsEqual(prefix),
                index == 0 || !APIKeyFormat.isBase64URL(bytes[index - 1]),
                bytes[index + prefix.count..<index + length].allSatisfy(APIKeyFormat.isBase64URL),
                index + length == bytes.count || !APIKeyFormat.isBase64URL(bytes[index + length])
            {
                let candidate = Array(bytes[index..<index + length])
                let text = String(decoding: candidate, as: UTF8.self)
                let legacy = try? APIKey(parsing: text, format: .sentryAcceptingLegacyKeys)
                if let legacy {
                    results.append(
                        Finding(
                            line: line, column: index - lineStart + 1, hint: legacy.displayHint,
                            checksumHolds: legacy.hasValidChecksum, digest: legacy.digest))
                }
                index += length
                continue
            }
            index += 1
        }
        return results
    }
}
