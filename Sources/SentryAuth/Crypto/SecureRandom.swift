/// The system's cryptographically secure random number generator (`getrandom` on Linux,
/// `arc4random_buf` on Apple platforms), as `SystemRandomNumberGenerator` provides it.
///
/// It wraps `SystemRandomNumberGenerator` with a draw counter only to give the value a size:
/// ThreadSanitizer gives every zero-sized `inout` value the same global address, so concurrent key
/// generation through a bare `SystemRandomNumberGenerator` is reported as a race that is not one.
struct SecureRandom: RandomNumberGenerator {
    private var system = SystemRandomNumberGenerator()
    private(set) var draws: UInt64 = 0

    mutating func next() -> UInt64 {
        draws &+= 1
        return system.next()
    }
}
