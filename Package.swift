// swift-tools-version:6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The broker's hot-path targets skip run-time exclusivity checks in release builds: profiling
/// scenario (c) showed them at about a fifth of the broker's CPU (every access to a class's
/// stored property). Debug builds, and so every test run, keep the checks.
let hotPathSwift: [SwiftSetting] =
    strictSwift + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "warren",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "warren-server", targets: ["warren-server"]),
        .executable(name: "warren-perf", targets: ["warren-perf"]),
        .executable(name: "warren-fuzz", targets: ["warren-fuzz"]),
        .executable(name: "warrenctl", targets: ["warrenctl"]),
        // For the allocation benchmarks in Benchmarks/, a separate package.
        .library(name: "AMQPWire", targets: ["AMQPWire"]),
        .library(name: "WarrenCore", targets: ["WarrenCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // TLS listeners (BoringSSL through NIO, with certificate reload by swapping contexts).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // SHA-256/512 and MD5 for RabbitMQ's password hashes.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // Reading a client certificate's subject and SANs for the EXTERNAL mechanism.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        // The management HTTP API and the Prometheus listener: routing, HTTP/1.1 serving and
        // graceful shutdown that would otherwise be a few hundred lines on NIOHTTP1.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // The Prometheus text format (names, labels, escaping, TYPE/HELP lines) for /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // HTTP field names for headers Hummingbird does not predefine (X-Reason); already in
        // the graph through Hummingbird.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "AMQPWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPathSwift
        ),
        .target(
            name: "WarrenCore",
            dependencies: [
                "AMQPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: hotPathSwift
        ),
        .target(
            name: "WarrenStore",
            dependencies: [
                "AMQPWire", "WarrenCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: hotPathSwift
        ),
        // Cyrus SASL (libsasl2-dev) for the optional password backend `auth_backends.N = sasl`.
        .systemLibrary(name: "CSASL", pkgConfig: "libsasl2", providers: [.apt(["libsasl2-dev"])]),
        .target(
            name: "WarrenConfig",
            swiftSettings: strictSwift
        ),
        .target(
            name: "WarrenServer",
            dependencies: [
                "AMQPWire", "WarrenCore", "WarrenStore", "CSASL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: hotPathSwift
        ),
        .target(
            name: "WarrenClient",
            dependencies: [
                "AMQPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "warren-server",
            dependencies: [
                "WarrenServer", "WarrenConfig", "WarrenManagement",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "WarrenManagement",
            dependencies: [
                "WarrenServer", "WarrenCore", "AMQPWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Console")],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "warrenctl",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSwift
        ),
        // Fuzzing: `make fuzz` builds this with -sanitize=fuzzer and -DFUZZING; a normal build
        // replays a corpus through the same code.
        .executableTarget(
            name: "warren-fuzz",
            dependencies: ["AMQPWire", "WarrenServer", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "warren-perf",
            dependencies: [
                "WarrenClient", "AMQPWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "AMQPWireTests",
            dependencies: [
                "AMQPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WarrenCoreTests",
            dependencies: ["WarrenCore", "AMQPWire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WarrenStoreTests",
            dependencies: ["WarrenStore", "WarrenCore", "AMQPWire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WarrenManagementTests",
            dependencies: [
                "WarrenManagement", "WarrenServer", "WarrenCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WarrenConfigTests",
            dependencies: ["WarrenConfig"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WarrenServerTests",
            dependencies: [
                "WarrenServer", "WarrenCore", "AMQPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
