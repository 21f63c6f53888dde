// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sentry-auth",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentryAuth", targets: ["SentryAuth"]),
        .library(name: "SentryAuthTesting", targets: ["SentryAuthTesting"]),
        .library(name: "SentryAuthCommandLine", targets: ["SentryAuthCommandLine"]),
        .executable(name: "sentry-auth", targets: ["SentryAuthCLI"]),
        .executable(name: "sentry-auth-bench", targets: ["SentryAuthBench"]),
    ],
    targets: [
        .target(name: "SentryAuth"),
        .target(name: "SentryAuthTesting", dependencies: ["SentryAuth"]),
        .target(name: "SentryAuthCommandLine", dependencies: ["SentryAuth"]),
        .executableTarget(
            name: "SentryAuthCLI",
            dependencies: ["SentryAuth", "SentryAuthCommandLine", "SentryAuthTesting"]
        ),
        .executableTarget(
            name: "SentryAuthBench",
            dependencies: ["SentryAuth"],
            path: "Benchmarks/SentryAuthBench"
        ),
        .testTarget(
            name: "SentryAuthTests",
            dependencies: ["SentryAuth", "SentryAuthTesting"],
            exclude: ["Resources"]
        ),
        .testTarget(name: "SentryAuthCommandLineTests", dependencies: ["SentryAuthCommandLine"]),
        .testTarget(
            name: "SentryAuthCLITests",
            dependencies: ["SentryAuthCLI", "SentryAuthCommandLine", "SentryAuth", "SentryAuthTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
