// swift-tools-version:6.2
// The benchmarks of LoopWatchdog, in a package of their own so that the root package's
// `swift build` and `swift test` never fetch or build their dependencies (SwiftNIO,
// ordo-one/benchmark). Run them all with `bash scripts/benchmarks.sh`; BENCHMARKS.md has
// the method and the numbers.
import PackageDescription

let package = Package(
    name: "LoopWatchdogBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "LoopWatchdog", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // elfutils' libdwfl, a symbolication candidate (Debian's libdw-dev).
        .target(
            name: "CLibdwCandidate",
            linkerSettings: [.linkedLibrary("dw"), .linkedLibrary("elf")]
        ),
        // Timing, percentiles, threads and CPU clocks shared by both executables, and the
        // symbolication candidates (the toolchain's Runtime module, libdwfl).
        .target(
            name: "BenchSupport",
            dependencies: ["CLibdwCandidate", .product(name: "LoopWatchdog", package: "LoopWatchdog")],
            linkerSettings: [.linkedLibrary("swiftRuntime")]
        ),
        // The NIO-sized executable: capture, detection, idle cost, symbolication of a large
        // binary, and the NIO throughput workloads with the watchdog off and on.
        .executableTarget(
            name: "watchdog-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "LoopWatchdog", package: "LoopWatchdog"),
                .product(name: "LoopWatchdogNIO", package: "LoopWatchdog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The same dependencies as the `loop-watchdog` demo tool: symbolication of a
        // demo-sized binary.
        .executableTarget(
            name: "watchdog-bench-small",
            dependencies: [
                "BenchSupport",
                .product(name: "LoopWatchdog", package: "LoopWatchdog"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // ordo-one/benchmark micro-benchmarks: the heartbeat's time and allocations per beat.
        .executableTarget(
            name: "Heartbeat",
            dependencies: [
                .product(name: "LoopWatchdog", package: "LoopWatchdog"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Heartbeat",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
