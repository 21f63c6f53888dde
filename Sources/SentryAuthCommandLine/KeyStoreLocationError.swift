/// A location value that cannot name a store (an empty path, a malformed URL): bad usage, exit 2.
public struct KeyStoreLocationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong with it, naming the option and never repeating a password: `--store needs a
    /// file path, not an empty one.`
    public let description: String

    /// Creates an error.
    ///
    /// - Parameter description: What is wrong.
    public init(_ description: String) { self.description = description }
}
