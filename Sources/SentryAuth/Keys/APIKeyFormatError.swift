/// Why a string is not an API key.
///
/// The error says what is wrong and where, and never contains the text that was presented:
/// a mistyped key is still mostly a secret.
public struct APIKeyFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    // A struct over a private enum (as Hummingbird's and swift-http-types' errors are): a new case
    // can be added without breaking anyone's exhaustive `switch`. Compare with `==`.
    private enum Kind: Sendable, Hashable {
        case empty
        case wrongPrefix(expected: String)
        case wrongLength(expected: Int, actual: Int)
        case invalidCharacter(position: Int)
        case invalidFormat
        case checksumMismatch
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The text is empty.
    public static var empty: Self { Self(.empty) }

    /// The text does not start with the format's prefix.
    public static func wrongPrefix(expected: String) -> Self { Self(.wrongPrefix(expected: expected)) }

    /// The text has the wrong length, counted in UTF-8 bytes (a key is ASCII, one byte a character).
    public static func wrongLength(expected: Int, actual: Int) -> Self {
        Self(.wrongLength(expected: expected, actual: actual))
    }

    /// The byte at `position` (1-based, counted in UTF-8 bytes over the whole key) is not a
    /// base64url character.
    public static func invalidCharacter(position: Int) -> Self { Self(.invalidCharacter(position: position)) }

    /// An ``APIKeyFormat`` was given a prefix or body length out of range.
    public static var invalidFormat: Self { Self(.invalidFormat) }

    /// The key's last 6 characters are not the checksum of the rest: a mistyped or made-up key.
    public static var checksumMismatch: Self { Self(.checksumMismatch) }

    /// A message naming what is wrong, safe to log: it never contains the presented text.
    public var description: String {
        switch kind {
        case .empty: "The API key is empty."
        case .wrongPrefix(let expected): "The API key does not start with \"\(expected)\"."
        case .wrongLength(let expected, let actual):
            "The API key is \(actual) bytes long; expected \(expected) (ASCII) characters."
        case .invalidCharacter(let position):
            "The API key has a byte at position \(position) that is not base64url (A-Z, a-z, 0-9, '-', '_')."
        case .checksumMismatch:
            "The API key's checksum (its last 6 characters) does not match: the key is mistyped or made up."
        case .invalidFormat:
            "A key format needs a prefix of 1 to 32 characters from [A-Za-z0-9_] ending in '_', and a body of "
                + "\(APIKeyFormat.minimumBodyLength) to \(APIKeyFormat.maximumBodyLength) characters."
        }
    }
}
