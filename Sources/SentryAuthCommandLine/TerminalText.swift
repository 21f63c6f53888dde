/// Text made safe for a terminal or a line-oriented log: control and formatting characters are
/// written as escapes, so a name or message written by anyone cannot forge a row, move the cursor or
/// reach the terminal as an ANSI sequence.
package enum TerminalText {
    /// `text` with every control character (C0, DEL, C1), formatting character (bidirectional
    /// overrides, zero-width characters), line and paragraph separator, and backslash written as a
    /// Swift-style escape (`\u{1B}`, `\\`).
    ///
    /// - Parameters:
    ///   - text: The text to show.
    ///   - keepingNewlines: Keep `\n` as a line break (for multi-line output the tool itself built).
    package static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) && !(keepingNewlines && $0 == "\n") }) else {
            return text
        }
        var result = ""
        for scalar in text.unicodeScalars {
            if keepingNewlines && scalar == "\n" {
                result.unicodeScalars.append(scalar)
            } else if scalar == "\\" {
                result += "\\\\"
            } else if needsEscape(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    package static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\\" { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate: return true
        default: return false
        }
    }
}
