// swift-tools-version:6.2
import PackageDescription

// Supported: Linux on x86_64, nothing else (SwiftPM has no Linux entry for `platforms`, so
// no Apple platform is listed). Another system or architecture fails at build time with a
// message from CLoopWatchdog.h and Symbolicator.swift.
let package = Package(
    name: "LoopWatchdog",
    products: [
        .library(name: "LoopWatchdog", targets: ["LoopWatchdog"]),
        .library(name: "LoopWatchdogNIO", targets: ["LoopWatchdogNIO"]),
        .library(name: "LoopWatchdogServiceLifecycle", targets: ["LoopWatchdogServiceLifecycle"]),
        .library(name: "LoopWatchdogReport", targets: ["LoopWatchdogReport"]),
        .executable(name: "loop-watchdog", targets: ["loop-watchdog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Only for `swift package generate-documentation` (scripts/docs.sh); never linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // SIGPROF handler, libunwind capture, /proc readers, thread helpers and the ELF and
        // DWARF line-table reader of symbolication. C because libunwind's API is macros that
        // Swift cannot import, and because the readers are byte-level parsing.
        .target(
            name: "CLoopWatchdog",
            cSettings: [.define("_GNU_SOURCE"), .define("UNW_LOCAL_ONLY")],
            linkerSettings: [.linkedLibrary("unwind")]
        ),
        .target(
            name: "LoopWatchdog",
            dependencies: [
                "CLoopWatchdog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Watches every loop of a SwiftNIO EventLoopGroup with probes, and optionally with
        // NIO's own tick measurements.
        .target(
            name: "LoopWatchdogNIO",
            dependencies: [
                "LoopWatchdog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The watchdog as a swift-service-lifecycle `Service`, in a product of its own so that
        // an application without ServiceLifecycle never builds it.
        .target(
            name: "LoopWatchdogServiceLifecycle",
            dependencies: [
                "LoopWatchdog",
                "LoopWatchdogNIO",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // gzip for stall logs and pprof profiles: zlib's init functions are macros.
        .target(
            name: "CLoopWatchdogZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        // Stall logs read back: the JSON-lines reader, the summary by site and stack, and
        // the outputs existing tools read (folded stacks, SVG flame graph, Chrome trace,
        // pprof).
        .target(
            name: "LoopWatchdogReport",
            dependencies: ["LoopWatchdog", "CLoopWatchdogZlib"]
        ),
        .executableTarget(
            name: "loop-watchdog",
            dependencies: [
                "LoopWatchdog",
                "LoopWatchdogNIO",
                "LoopWatchdogReport",
                "CLoopWatchdogZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/loop-watchdog"
        ),
        // C parts of the fault suite: a second SIGPROF user (a setitimer profiler), fork
        // while a capture is in flight, threads that sit inside malloc or dl_iterate_phdr.
        .target(
            name: "CLoopWatchdogTestSupport",
            dependencies: ["CLoopWatchdog"],
            path: "Tests/CLoopWatchdogTestSupport",
            cSettings: [.define("_GNU_SOURCE"), .define("UNW_LOCAL_ONLY")]
        ),
        // A child process for the fault suite: runs one scenario per invocation, in a fresh
        // process (signal handlers, fork, stop/continue, tracers, soak figures).
        .executableTarget(
            name: "lwd-fault-helper",
            dependencies: [
                "LoopWatchdog", "CLoopWatchdog", "CLoopWatchdogTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FaultHelper"
        ),
        // Real async call chains that block under a watchdog, one scenario per process;
        // built in debug and release by scripts/test.sh for AsyncCallersTests.
        .executableTarget(
            name: "lwd-async-helper",
            dependencies: ["LoopWatchdog"],
            path: "Tests/AsyncHelper"
        ),
        .testTarget(
            name: "LoopWatchdogTests",
            dependencies: [
                "LoopWatchdog",
                "CLoopWatchdog",
                "CLoopWatchdogTestSupport",
                "LoopWatchdogServiceLifecycle",
                "LoopWatchdogReport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // A small application for the service tests: a ServiceGroup with the watchdog and a
        // service that blocks, shut down by SIGTERM as a deployed server is.
        .executableTarget(
            name: "lwd-service-helper",
            dependencies: [
                "LoopWatchdog",
                "LoopWatchdogServiceLifecycle",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ServiceHelper"
        ),
        .testTarget(
            name: "LoopWatchdogNIOTests",
            dependencies: [
                "LoopWatchdog",
                "CLoopWatchdog",
                "LoopWatchdogNIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
