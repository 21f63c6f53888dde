import Testing

@testable import SentryAuth

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    static let reference: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    @Test("Equal inputs compare equal, including empty ones")
    func equal() {
        #expect(ConstantTime.isEqual(Self.reference, Self.reference))
        #expect(ConstantTime.isEqual([], []))
        #expect(ConstantTime.isEqual([0], [0]))
    }

    @Test("Every single-bit difference at every position of 32 bytes is caught")
    func everySingleBit() {
        var missed = 0
        for position in 0..<32 {
            for bit in 0..<8 {
                var other = Self.reference
                other[position] ^= 1 << bit
                if ConstantTime.isEqual(Self.reference, other) { missed += 1 }
                if ConstantTime.isEqual(other, Self.reference) { missed += 1 }
            }
        }
        #expect(missed == 0)
    }

    @Test("Every length 0…40: a one-byte difference at every position is caught (word and tail loops)")
    func everyLength() {
        for length in 0...40 {
            let base = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 91 &+ 7) }
            #expect(ConstantTime.isEqual(base, base))
            for position in 0..<length {
                var other = base
                other[position] ^= 0x40
                #expect(!ConstantTime.isEqual(base, other), "length \(length), position \(position)")
            }
        }
    }

    @Test("Different lengths are unequal, even when one is a prefix of the other")
    func lengths() {
        #expect(!ConstantTime.isEqual(Self.reference, Array(Self.reference.prefix(31))))
        #expect(!ConstantTime.isEqual(Self.reference, Self.reference + [0]))
        #expect(!ConstantTime.isEqual([], [0]))
    }

    @Test("The branch-free zero tests agree with == 0 for every byte and edge words")
    func zeroTests() {
        for value in 0...255 { #expect(ConstantTime.isZero(UInt8(value)) == (value == 0)) }
        for word: UInt64 in [0, 1, 2, 1 << 63, .max, 0x8000_0000, 0x0123_4567_89ab_cdef] {
            #expect(ConstantTime.isZero(word) == (word == 0))
        }
    }
}
