// swift-tools-version: 6.1
import PackageDescription

// SentryAuth in front of real servers. The root package (`..`) depends on nothing; everything that
// needs the Swift server ecosystem lives here.
let package = Package(
    name: "sentry-auth-integrations",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SentryAuthNIO", targets: ["SentryAuthNIO"]),
        .library(name: "SentryAuthHummingbird", targets: ["SentryAuthHummingbird"]),
        .library(name: "SentryAuthVapor", targets: ["SentryAuthVapor"]),
        .library(name: "SentryAuthPostgres", targets: ["SentryAuthPostgres"]),
        .library(name: "SentryAuthRedis", targets: ["SentryAuthRedis"]),
        .executable(name: "sentry-auth-server", targets: ["SentryAuthServer"]),
        .executable(name: "sentry-auth-redis-bench", targets: ["SentryAuthRedisBench"]),
    ],
    dependencies: [
        .package(name: "sentry-auth", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // What the engine clients share: deadlines that do not wait for a frozen server, the jittered
        // reconnect backoff, the connection-URL parser. Internal (`package` access), not a product.
        .target(
            name: "SentryAuthEngineSupport", dependencies: [.product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(
            name: "SentryAuthNIO",
            dependencies: [
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "SentryAuthHummingbird",
            dependencies: [
                "SentryAuthNIO",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SentryAuthVapor",
            dependencies: [
                "SentryAuthNIO",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .target(
            name: "SentryAuthPostgres",
            dependencies: [
                "SentryAuthEngineSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SentryAuthRedis",
            dependencies: [
                "SentryAuthEngineSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "SentryAuthServer",
            dependencies: [
                "SentryAuthHummingbird", "SentryAuthPostgres", "SentryAuthRedis",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthCommandLine", package: "sentry-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "SentryAuthRedisBench",
            dependencies: ["SentryAuthRedis", .product(name: "SentryAuth", package: "sentry-auth")],
            path: "Benchmarks/SentryAuthRedisBench"
        ),
        // The README's and DocC's framework snippets, generated by .ci/check-snippets.py: compiled
        // here, so a snippet that no longer matches the API fails the build.
        .target(
            name: "HummingbirdSnippets",
            dependencies: [
                "SentryAuthHummingbird", .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "DocumentationSnippets/HummingbirdSnippets"
        ),
        .target(
            name: "EngineSnippets",
            dependencies: [
                "SentryAuthHummingbird", "SentryAuthPostgres", "SentryAuthRedis",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "DocumentationSnippets/EngineSnippets"
        ),
        .target(
            name: "VaporSnippets",
            dependencies: [
                "SentryAuthVapor", .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "Vapor", package: "vapor"),
            ],
            path: "DocumentationSnippets/VaporSnippets"
        ),
        .target(
            name: "IntegrationTestSupport",
            dependencies: [
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/IntegrationTestSupport"
        ),
        .testTarget(
            name: "SentryAuthHummingbirdTests",
            dependencies: [
                "SentryAuthHummingbird", "IntegrationTestSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(name: "SentryAuthEngineSupportTests", dependencies: ["SentryAuthEngineSupport"]),
        .testTarget(
            name: "SentryAuthNIOTests",
            dependencies: [
                "SentryAuthNIO", "IntegrationTestSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SentryAuthVaporTests",
            dependencies: [
                "SentryAuthVapor", "IntegrationTestSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "SentryAuthPostgresTests",
            dependencies: [
                "SentryAuthPostgres", "IntegrationTestSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SentryAuthRedisTests",
            dependencies: [
                "SentryAuthRedis", "IntegrationTestSupport",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "SentryAuthTesting", package: "sentry-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SentryAuthServerTests",
            dependencies: [
                "IntegrationTestSupport", "SentryAuthPostgres",
                .product(name: "SentryAuth", package: "sentry-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
