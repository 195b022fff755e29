// swift-tools-version:6.2
// A Hummingbird 2 server with LoopWatchdog as one service of its ServiceGroup, as the README
// tells users to, its metrics served to Prometheus on /metrics, and routes that block in the
// four common ways. scripts/examples.sh builds it and drives it over
// loopback; the root package never builds Hummingbird.
import PackageDescription

let package = Package(
    name: "HummingbirdExample",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../LoopWatchdog"),  // a link to the root package (the clone's folder name may be anything)
        .package(path: "../ExampleWork"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdExample",
            dependencies: [
                .product(name: "LoopWatchdog", package: "LoopWatchdog"),
                .product(name: "LoopWatchdogServiceLifecycle", package: "LoopWatchdog"),
                .product(name: "ExampleWork", package: "ExampleWork"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        )
    ]
)
