import Foundation
import SentryAuth

/// Constant-time evidence that does not depend on noisy timing.
enum Probes {
    /// Runs a 32-byte compare `iterations` times on one input class, for callgrind: the instruction
    /// count of the compare must be the same for every class. `target` is `bytes`
    /// (`ConstantTime.isEqual` over raw buffers) or `digest` (`KeyDigest.==`, the gate's compare).
    static func constantTime(_ kind: String, target: String, iterations: Int) {
        let a = UnsafeRawBufferPointer(Scenarios.bytesA)
        let b: UnsafeRawBufferPointer
        switch kind {
        case "same": b = UnsafeRawBufferPointer(Scenarios.bytesSame)
        case "first": b = UnsafeRawBufferPointer(Scenarios.bytesFirst)
        case "last": b = UnsafeRawBufferPointer(Scenarios.bytesLast)
        default:
            FileHandle.standardError.write(Data("error: --ct-probe is same, first or last\n".utf8))
            exit(2)
        }
        var equal = 0
        switch target {
        case "bytes":
            for _ in 0..<iterations where ConstantTime.isEqual(opaque(a), opaque(b)) { equal += 1 }
        case "digest":
            let left = KeyDigest(bytes: Array(a))!
            let right = KeyDigest(bytes: Array(b))!
            for _ in 0..<iterations where opaque(left) == opaque(right) { equal += 1 }
        default:
            FileHandle.standardError.write(Data("error: --ct-target is bytes or digest\n".utf8))
            exit(2)
        }
        print("ct-probe \(target) \(kind): \(equal) of \(iterations) equal")
    }

    /// dudect-style leakage test (Reparaz, Balasch, Verbauwhede 2017): two input classes — equal
    /// inputs, and inputs that differ in the first byte — interleaved at random, each call timed,
    /// then Welch's t-test on the two timing populations (after cropping the slowest 10 %).
    /// |t| below about 4.5 gives no evidence of a leak. For information: timing is noisy here.
    static func dudect(measurements: Int) {
        let a = UnsafeRawBufferPointer(Scenarios.bytesA)
        let classes = [UnsafeRawBufferPointer(Scenarios.bytesSame), UnsafeRawBufferPointer(Scenarios.bytesFirst)]
        var timings: [[Double]] = [[], []]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<measurements {
            let which = Int(random.next() & 1)
            let b = classes[which]
            let start = nanosecondsNow()
            for _ in 0..<16 { blackHole(ConstantTime.isEqual(opaque(a), opaque(b))) }
            timings[which].append(Double(nanosecondsNow() - start) / 16)
        }
        func cropped(_ values: [Double]) -> [Double] { Array(values.sorted().prefix(values.count * 9 / 10)) }
        let left = cropped(timings[0])
        let right = cropped(timings[1])
        func meanVariance(_ values: [Double]) -> (Double, Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1))
        }
        let (m0, v0) = meanVariance(left)
        let (m1, v1) = meanVariance(right)
        let t = (m0 - m1) / (v0 / Double(left.count) + v1 / Double(right.count)).squareRoot()
        print(
            String(
                format: "dudect: %d measurements, equal %.2f ns, first-byte-differs %.2f ns, |t| = %.2f (%@)",
                measurements, m0, m1, abs(t), abs(t) < 4.5 ? "no evidence of a leak" : "possible leak"))
    }
}
