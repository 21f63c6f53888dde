// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sentry-auth",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentryAuth", targets: ["SentryAuth"])
    ],
    targets: [
        .target(name: "SentryAuth"),
        .testTarget(
            name: "SentryAuthTests",
            dependencies: ["SentryAuth"],
            exclude: ["Resources"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
