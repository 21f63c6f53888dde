import Foundation
import Testing

@testable import SentryAuth
@testable import SentryAuthCLI
@testable import SentryAuthCommandLine

@Suite("A key typed in the wrong place is never printed back or stored")
struct SecretArgumentTests {
    /// Every argument position of every command, with `KEY` where the key goes.
    static func vectors(store: String, directory: String) -> [[String]] {
        let create = ["keys", "create", "--store", store, "--merchant", "m", "--scopes", "sales:read"]
        return [
            ["KEY"], ["keys", "KEY"], ["keys", "revoke", "xKEY", "--store", store],
            ["keys", "revoke", "KEY", "--store", store], ["keys", "roll", "--store", store, "KEY"],
            ["keys", "restrict", "KEY", "--store", store, "--scopes", "sales:read"],
            ["keys", "history", "--store", store, "KEY"], ["keys", "list", "--store", store, "--merchant", "KEY"],
            ["keys", "create", "--store", store, "--merchant", "m", "--scopes", "KEY"],
            ["keys", "create", "--store", store, "--merchant", "KEY", "--scopes", "sales:read"],
            ["keys", "create", "--store", store, "--merchant", "m_KEY", "--scopes", "sales:read"],
            create + ["--name", "KEY"], create + ["--name", "Production KEY copy"], create + ["--actor", "KEY"],
            create + ["--allow", "KEY"], create + ["--limit", "KEY"], create + ["--expires", "KEY"],
            create + ["--KEY"], create + ["--name=KEY"],
            ["keys", "create", "--store", directory + "/KEY.json", "--merchant", "m", "--scopes", "sales:read"],
            ["check", "--store", store, "--policy", "KEY"], ["check", "--store", "KEY"],
            ["check", "--store", store, "--ip", "KEY", "-H", "Authorization: Bearer KEY"],
            ["check", "--store", store, "--peer", "KEY"], ["check", "--store", store, "--forwarded-for", "KEY"],
            ["check", "--store", store, "--trusted-proxy", "KEY"], ["check", "KEY", "--store", store],
            ["digest", "KEY"], ["allowlist", "KEY"], ["simulate", "KEY"], ["demo", "KEY"], ["--KEY"],
            ["scan", directory + "/KEY"],
        ]
    }

    @Test("Every argument position of every command: refused, the key in no output, the store unchanged")
    func everyPosition() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, existing, _) = try await KeysAndCheckCommandTests.createKey(in: directory)
        let before = try String(contentsOfFile: store, encoding: .utf8)
        for key in [existing, APIKey.generate().revealSecret(), String(existing.dropLast(6))] {
            for vector in Self.vectors(store: store, directory: directory.path) {
                let arguments = vector.map { $0.replacingOccurrences(of: "KEY", with: key) }
                let run = await runTool(arguments)
                let shown = "\(vector)"
                #expect(run.status != 0, "\(shown)")
                #expect(!(run.output + run.error).contains(key.dropFirst(5).prefix(16)), "\(shown)")
                #expect(!(run.output + run.error).isEmpty, "\(shown): a refusal says why")
            }
        }
        #expect(try String(contentsOfFile: store, encoding: .utf8) == before, "nothing was stored")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.contains { $0.contains("sntr_") }, "\(files)")
    }

    @Test("The one key a command prints is the one it creates or rolls, once")
    func createdKeyIsShown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (store, key, id) = try await KeysAndCheckCommandTests.createKey(in: directory)
        #expect(key.count == 37)
        let list = await runTool(["keys", "list", "--store", store])
        #expect(!list.output.contains(key.dropFirst(5).prefix(16)))
        let roll = await runTool(["keys", "roll", id, "--store", store])
        let rolled = try #require(KeysAndCheckCommandTests.field("key", in: roll))
        #expect(rolled.count == 37 && rolled != key)
    }

    @Test(
        "Redaction: key-shaped runs anywhere in a line, and nothing else",
        arguments: [
            (
                "error: unknown command 'sntr_abcdefghijklmnopqrstuvwxyz123456'.",
                "error: unknown command 'sntr_…(redacted)'."
            ),
            ("x" + "sntr_ABCDEFGHIJKLMNOP" + "!", "x" + "sntr_…(redacted)" + "!"),
            ("sntr_ABCDEFGHIJKLMNO is short", "sntr_ABCDEFGHIJKLMNO is short"),
            ("hint sntr_…3456 stays", "hint sntr_…3456 stays"),
            (
                "two: sntr_AAAAAAAAAAAAAAAAAAAA sntr_BBBBBBBBBBBBBBBBBBBBBBBB.",
                "two: sntr_…(redacted) sntr_…(redacted)."
            ),
            ("é sntr_ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉ", "é sntr_ÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉÉ"),
        ])
    func redaction(text: String, expected: String) {
        #expect(SecretText.redacted(text) == expected)
        #expect(SecretText.holdsKeyShapedText(text) == (text != expected))
    }
}
