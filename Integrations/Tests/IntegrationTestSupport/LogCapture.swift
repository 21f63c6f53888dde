import Logging
import Synchronization

/// Collects formatted log lines (level, message and metadata) from every logger made with
/// ``handler()`` or ``logger``.
public final class LogCapture: Sendable {
    private let captured = Mutex<[String]>([])

    /// Creates an empty capture.
    public init() {}

    /// The lines logged so far, oldest first.
    public var lines: [String] { captured.withLock { $0 } }

    /// A handler that appends to this capture.
    public func handler() -> some LogHandler { Handler(capture: self) }

    /// A logger at trace level that appends to this capture.
    public var logger: Logger { Logger(label: "test") { _ in self.handler() } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let text = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.captured.withLock { $0.append("\(event.level) \(event.message) \(text)") }
        }
    }
}
