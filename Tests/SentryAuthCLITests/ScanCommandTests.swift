import Foundation
import Testing

@testable import SentryAuth
@testable import SentryAuthCLI

@Suite("sentry-auth scan")
struct ScanCommandTests {
    @Test("A planted tree: exact findings, never a whole key, exit 1 when a valid key is found")
    func plantedTree() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let root = directory.path + "/tree"
        let store = directory.path + "/keys.json"
        let manager = KeyManager(store: FileKeyStore(path: store))
        let live = try await manager.create(for: MerchantID("m")!, name: "live", scopes: [.salesRead]).key
            .revealSecret()
        let revoked = try await manager.create(for: MerchantID("m")!, name: "old", scopes: [.salesRead])
        try await manager.revoke(revoked.record.id)
        let stranger = APIKey.generate().revealSecret()
        var typo = Array(stranger.utf8)
        typo[10] = typo[10] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
        let mistyped = String(decoding: typo, as: UTF8.self)
        func write(_ relative: String, _ text: String) throws {
            let path = root + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        try write("a.swift", "let token = \"\(live)\"\n\nlet other = 1\n\(revoked.key.revealSecret())")
        try write("b.txt", "typo: \(mistyped)\n")
        try write("c.txt", "abc\(stranger)def\nXsntr_\(stranger.dropFirst(5))\n\(stranger)x\n")
        try write("sub/e.env", "KEY=\(stranger)\n")
        try write(".git/config", "token = \(live)\n")
        var binary = Data([0x7f, 0x45, 0x4c, 0x46, 0x00])
        binary.append(Data(live.utf8))
        try binary.write(to: URL(fileURLWithPath: root + "/d.bin"))
        func hint(_ key: String) -> String { "sntr_…" + key.suffix(4) }

        let run = await runTool(["scan", root])
        #expect(run.status == 1, "\(run.error)")
        #expect(
            run.lines.dropLast() == [
                "\(root)/a.swift:1:14: \(hint(live)) checksum ok",
                "\(root)/a.swift:4:1: \(hint(revoked.key.revealSecret())) checksum ok",
                "\(root)/sub/e.env:1:5: \(hint(stranger)) checksum ok",
            ])
        let all = await runTool(["scan", "--include-unchecksummed", "--store", store, root])
        #expect(
            all.lines.dropLast() == [
                "\(root)/a.swift:1:14: \(hint(live)) checksum ok live",
                "\(root)/a.swift:4:1: \(hint(revoked.key.revealSecret())) checksum ok revoked",
                "\(root)/b.txt:1:7: \(hint(mistyped)) checksum invalid unknown",
                "\(root)/sub/e.env:1:5: \(hint(stranger)) checksum ok unknown",
            ])
        for key in [live, revoked.key.revealSecret(), stranger, mistyped] {
            #expect(!(run.output + run.error + all.output + all.error).contains(key.dropFirst(5).prefix(12)))
        }
        // Only invalid checksums: nothing usable found, exit 0; standard input works too.
        let clean = await runTool(["scan", root + "/b.txt"])
        #expect(clean.status == 0 && clean.output.isEmpty)
        let piped = await runTool(["scan"], input: ["first line", "export KEY='\(live)'"])
        #expect(piped.status == 1 && piped.lines.first == "(standard input):2:13: \(hint(live)) checksum ok")
    }

    @Test("Bad usage exits 2; a missing path exits 3")
    func errors() async {
        let missing = await runTool(["scan", "/nonexistent/sentry-scan"])
        #expect(missing.status == 3 && missing.error.contains("no such file or directory"))
        let bad = await runTool(["scan", "--frobnicate"])
        #expect(bad.status == 2)
    }

    @Test("Matching: boundaries are base64url runs; the checksum decides")
    func matching() {
        let key = "sntr_abcdefghijklmnopqrstuvwxyzDprpqN"
        let cases: [(String, [Int])] = [
            (key, [1]), ("(\(key))", [2]), ("-\(key)", []), ("\(key)_", []), ("a\(key)", []),
            ("\(key) \(key)", [1, 39]), ("sntr_" + String(key.dropFirst(5).dropLast()), []),
        ]
        for (text, columns) in cases {
            #expect(ScanCommand.findings(in: Array(text.utf8)).map(\.column) == columns, "\(text)")
        }
        #expect(ScanCommand.findings(in: Array(key.utf8)).first?.checksumHolds == true)
        #expect(
            ScanCommand.findings(in: Array("sntr_abcdefghijklmnopqrstuvwxyz123456".utf8)).first?.checksumHolds == false)
    }
}
