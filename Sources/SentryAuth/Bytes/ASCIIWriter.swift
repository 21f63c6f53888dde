/// Writes ASCII text and decimal numbers into caller-provided bytes, without allocating: how
/// response header values are rendered. The callers size their storage for the longest value;
/// should a value ever not fit, it is cut short rather than written past the end.
@usableFromInline
struct ASCIIWriter {
    @usableFromInline let storage: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var count = 0

    @inlinable
    init(_ storage: UnsafeMutableBufferPointer<UInt8>) {
        self.storage = storage
    }

    /// The bytes written so far.
    @inlinable
    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: storage[..<count]) }

    @inlinable
    mutating func append(byte: UInt8) {
        guard count < storage.count else { return }
        storage[count] = byte
        count += 1
    }

    /// Appends ASCII text.
    @inlinable
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { append(byte: byte) }
        }
    }

    /// Appends a non-negative number in decimal (a negative one is written as 0).
    @inlinable
    mutating func append(_ number: Int) {
        var value = UInt(max(0, number))
        let start = count
        repeat {
            append(byte: UInt8(ascii: "0") &+ UInt8(value % 10))
            value /= 10
        } while value > 0
        var low = start
        var high = count - 1
        while low < high {
            storage.swapAt(low, high)
            low += 1
            high -= 1
        }
    }
}
