import Foundation
import SentryAuth

/// sentry-auth-bench: see Benchmarks/README.md.
let usage = """
    Usage: swift run -c release sentry-auth-bench [--filter SUBSTRING] [--quick] [--json]
           sentry-auth-bench --run NAME --iterations N      (one scenario, untimed: for valgrind)
           sentry-auth-bench --ct-probe same|first|last [--ct-target bytes|digest] --iterations N
           sentry-auth-bench --dudect [--measurements N]
           sentry-auth-bench --bytes-per-key                (heap bytes per key in the in-memory limiter store)

    Options:
      --filter SUBSTRING   Only benchmarks whose name contains SUBSTRING
      --quick              A smoke run: short samples (CI)
      --json               One JSON object: {"benchmarks": [{"name", "ns_per_op", "p99_ns",
                           "ops_per_sec", "threads", "iterations"}]}
      --help               This text
    """

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, in arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let known: Set<String> = [
    "--filter", "--quick", "--json", "--run", "--iterations", "--ct-probe", "--ct-target", "--dudect", "--measurements",
    "--bytes-per-key",
]
for (index, argument) in arguments.enumerated() where argument.hasPrefix("-") && !known.contains(argument) {
    let previous = index > 0 ? arguments[index - 1] : ""
    if !["--filter", "--run", "--iterations", "--ct-probe", "--ct-target", "--measurements"].contains(previous) {
        FileHandle.standardError.write(Data("error: unknown option \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}

if let probe = option("--ct-probe") {
    Probes.constantTime(
        probe, target: option("--ct-target") ?? "bytes", iterations: Int(option("--iterations") ?? "") ?? 100_000)
    exit(0)
}
if arguments.contains("--bytes-per-key") {
    Probes.bytesPerKey()
    exit(0)
}
if arguments.contains("--dudect") {
    Probes.dudect(measurements: Int(option("--measurements") ?? "") ?? 1_000_000)
    exit(0)
}

if let name = option("--run") {
    guard let benchmark = await Scenarios.all({ $0 == name }).first else {
        FileHandle.standardError.write(Data("error: no benchmark named \(name)\n".utf8))
        exit(2)
    }
    await benchmark.run(iterations: Int(option("--iterations") ?? "") ?? 1000)
    exit(0)
}

let filter = option("--filter")
let benchmarks = await Scenarios.all { name in filter.map { name.contains($0) } ?? true }
let settings = arguments.contains("--quick") ? HarnessSettings.quick : HarnessSettings.full
var results: [String: Result] = [:]
var order: [String] = []
let json = arguments.contains("--json")
if !json {
    print(
        "name".padding(toLength: 36, withPad: " ", startingAt: 0)
            + "     ns/op    p99 ns         ops/s  threads  ratio to baseline")
}
for benchmark in benchmarks {
    let result = await measure(benchmark, settings: settings)
    results[benchmark.name] = result
    order.append(benchmark.name)
    if !json {
        var ratio = ""
        if let baseline = benchmark.baseline, let base = results[baseline] {
            ratio = String(format: "%6.2f× %@", result.ns_per_op / base.ns_per_op, baseline)
        }
        print(
            benchmark.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                + String(
                    format: "%10.1f %9.1f %13.0f %8d  ", result.ns_per_op, result.p99_ns, result.ops_per_sec,
                    result.threads)
                + ratio)
    }
}
if json {
    struct Report: Codable { let benchmarks: [Result] }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try! encoder.encode(Report(benchmarks: order.compactMap { results[$0] })), as: UTF8.self))
}
