/// One response header.
public struct HTTPHeaderField: Sendable, Hashable {
    /// The field name, such as `Retry-After`.
    public let name: String
    /// The field value.
    public let value: String

    /// Creates a header field.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
