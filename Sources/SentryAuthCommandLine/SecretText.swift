/// Key-shaped text in what the commands print: found and replaced before anything is written.
///
/// A command echoes what it was given — an unknown command or option, a bad key ID, a file name, a
/// URL — and a key typed in the wrong place would be echoed with it. Every line a ``Console``
/// writes, to standard output or standard error, passes through ``redacted(_:)`` first; only
/// ``Console/secretLine(_:)``, used once where a key is created or rolled, writes a key.
public enum SecretText {
    /// The prefix of the keys the commands handle.
    static let prefix = Array("sntr_".utf8)
    /// How many base64url characters after the prefix make text key-shaped: half a key's body,
    /// so a key with a character dropped, or run into other text (`x` + key), is still caught.
    static let minimumBody = 16

    /// What stands in for a key-shaped run.
    public static let replacement = "sntr_…(redacted)"

    /// Whether the text holds `sntr_` followed by at least 16 base64url characters, anywhere (not
    /// only at a word boundary).
    ///
    /// - Parameter text: Any text.
    /// - Returns: `true` when it holds key-shaped text.
    public static func holdsKeyShapedText(_ text: String) -> Bool {
        !runs(in: Array(text.utf8)).isEmpty
    }

    /// The text with every key-shaped run (the prefix and its whole base64url tail) replaced.
    ///
    /// - Parameter text: Any text.
    /// - Returns: The text, unchanged when it holds no key-shaped run.
    public static func redacted(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let found = runs(in: bytes)
        guard !found.isEmpty else { return text }
        var result: [UInt8] = []
        var index = 0
        for run in found {
            result += bytes[index..<run.lowerBound]
            result += replacement.utf8
            index = run.upperBound
        }
        result += bytes[index...]
        return String(decoding: result, as: UTF8.self)
    }

    /// The byte ranges of the key-shaped runs.
    static func runs(in bytes: [UInt8]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var index = 0
        while index + prefix.count <= bytes.count {
            guard bytes[index..<index + prefix.count].elementsEqual(prefix) else {
                index += 1
                continue
            }
            var end = index + prefix.count
            while end < bytes.count, isBase64URL(bytes[end]) { end += 1 }
            if end - index - prefix.count >= minimumBody {
                found.append(index..<end)
                index = end
            } else {
                index += 1
            }
        }
        return found
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
