// swift-tools-version:6.2
// A Vapor 4 server with LoopWatchdog turned on as the README tells users to, and routes that
// block in the four common ways, async (on the Concurrency pool) and synchronous (on the
// event loop). scripts/examples.sh builds it and drives it over loopback; the root package
// never builds Vapor.
import PackageDescription

let package = Package(
    name: "VaporExample",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: "../LoopWatchdog"),  // a link to the root package (the clone's folder name may be anything)
        .package(path: "../ExampleWork"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
    ],
    targets: [
        .executableTarget(
            name: "VaporExample",
            dependencies: [
                .product(name: "LoopWatchdog", package: "LoopWatchdog"),
                .product(name: "LoopWatchdogNIO", package: "LoopWatchdog"),
                .product(name: "ExampleWork", package: "ExampleWork"),
                .product(name: "Vapor", package: "vapor"),
            ]
        )
    ]
)
