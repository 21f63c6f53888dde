import Testing

@testable import SentryAuthCommandLine

@Suite("Terminal text escaping")
struct TerminalTextTests {
    @Test(
        "Control, formatting and separator characters are escaped; printable text is unchanged",
        arguments: [
            ("Invoice reminders", "Invoice reminders"),
            ("Zahlungen — Büro", "Zahlungen — Büro"),
            ("a\nb", #"a\u{A}b"#),
            ("\u{1B}[31mred", #"\u{1B}[31mred"#),
            ("tab\there", #"tab\u{9}here"#),
            ("del\u{7F}", #"del\u{7F}"#),
            ("c1\u{9B}", #"c1\u{9B}"#),
            ("rtl\u{202E}txt", #"rtl\u{202E}txt"#),
            ("zw\u{200B}", #"zw\u{200B}"#),
            ("ls\u{2028}", #"ls\u{2028}"#),
            (#"back\slash"#, #"back\\slash"#),
        ])
    func escaping(text: String, expected: String) {
        #expect(TerminalText.escaped(text) == expected)
        #expect(!TerminalText.escaped(text).unicodeScalars.contains { $0.properties.generalCategory == .control })
    }

    @Test("Multi-line output keeps its own line breaks, and nothing else")
    func keepingNewlines() {
        #expect(TerminalText.escaped("a\nb\u{1B}", keepingNewlines: true) == "a\nb\\u{1B}")
    }
}
