// swift-tools-version:6.1
import PackageDescription

// Allocation benchmarks for Warren's in-process hot path, kept in their own package so that the
// main `swift build` / `swift test` (and CI) never build ordo-one/benchmark and its dependencies.
//
//     cd Benchmarks && swift package --scratch-path ../.build-bench benchmark
//
// or `make bench-alloc` from the repository root.
let package = Package(
    name: "warren-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // A path dependency is identified by its folder's name ("main" in one checkout, anything
        // in another); naming it keeps `package: "warren"` below independent of the checkout.
        .package(name: "warren", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // The trait list replaces the package's default traits: only the malloc interposer is
        // wanted (it backs the malloc metrics); the ARC runtime interposer is left off.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "WarrenAllocations",
            dependencies: [
                .product(name: "AMQPWire", package: "warren"),
                .product(name: "WarrenCore", package: "warren"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/WarrenAllocations",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
