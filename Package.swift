// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sentry-auth",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentryAuth", targets: ["SentryAuth"]),
        .executable(name: "sentry-auth", targets: ["SentryAuthCLI"]),
    ],
    targets: [
        .target(name: "SentryAuth"),
        .executableTarget(name: "SentryAuthCLI", dependencies: ["SentryAuth"]),
        .testTarget(
            name: "SentryAuthTests",
            dependencies: ["SentryAuth"],
            exclude: ["Resources"]
        ),
        .testTarget(name: "SentryAuthCLITests", dependencies: ["SentryAuthCLI", "SentryAuth"]),
    ],
    swiftLanguageModes: [.v6]
)
