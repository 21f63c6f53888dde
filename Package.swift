// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sentry-auth",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentryAuth", targets: ["SentryAuth"]),
        .library(name: "SentryAuthTesting", targets: ["SentryAuthTesting"]),
        .executable(name: "sentry-auth", targets: ["SentryAuthCLI"]),
        .executable(name: "sentry-auth-bench", targets: ["SentryAuthBench"]),
    ],
    targets: [
        .target(name: "SentryAuth"),
        .target(name: "SentryAuthTesting", dependencies: ["SentryAuth"]),
        .executableTarget(name: "SentryAuthCLI", dependencies: ["SentryAuth", "SentryAuthTesting"]),
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
        .testTarget(name: "SentryAuthCLITests", dependencies: ["SentryAuthCLI", "SentryAuth", "SentryAuthTesting"]),
    ],
    swiftLanguageModes: [.v6]
)
