/// Why a string is not an API key.
///
/// The error says what is wrong and where, and never contains the text that was presented:
/// a mistyped key is still mostly a secret.
public enum APIKeyFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is empty.
    case empty
    /// The text does not start with the format's prefix.
    case wrongPrefix(expected: String)
    /// The text has the wrong length, counted in UTF-8 bytes (a key is ASCII, one byte a character).
    case wrongLength(expected: Int, actual: Int)
    /// The byte at `position` (1-based, counted in UTF-8 bytes over the whole key) is not a
    /// base64url character.
    case invalidCharacter(position: Int)
    /// An ``APIKeyFormat`` was given a prefix or body length out of range.
    case invalidFormat

    /// A message naming what is wrong, safe to log: it never contains the presented text.
    public var description: String {
        switch self {
        case .empty: "The API key is empty."
        case .wrongPrefix(let expected): "The API key does not start with \"\(expected)\"."
        case .wrongLength(let expected, let actual):
            "The API key is \(actual) bytes long; expected \(expected) (ASCII) characters."
        case .invalidCharacter(let position):
            "The API key has a byte at position \(position) that is not base64url (A-Z, a-z, 0-9, '-', '_')."
        case .invalidFormat:
            "A key format needs a prefix of 1 to 32 characters from [A-Za-z0-9_] ending in '_', and a body of "
                + "\(APIKeyFormat.minimumBodyLength) to \(APIKeyFormat.maximumBodyLength) characters."
        }
    }
}
