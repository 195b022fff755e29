// swift-tools-version:6.2
// The blocking work that the example servers' routes do, shared by Examples/HummingbirdExample and
// Examples/VaporExample: a sleep, a CPU spin, a large synchronous file read and a contended lock.
import PackageDescription

let package = Package(
    name: "ExampleWork",
    products: [.library(name: "ExampleWork", targets: ["ExampleWork"])],
    targets: [.target(name: "ExampleWork")]
)
