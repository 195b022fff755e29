import ArgumentParser
import BenchSupport

/// `watchdog-bench-small`: measurements that depend on the size of the binary, taken in a
/// binary built from the same dependencies as the `loop-watchdog` demo tool (LoopWatchdog,
/// swift-log, swift-argument-parser), so its numbers stand for the demo's.
@main
struct SmallBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchdog-bench-small",
        abstract: "LoopWatchdog benchmarks in a demo-sized binary.",
        subcommands: [Symbolicate.self, Detection.self]
    )

    /// Symbolication of a parked loop's stack, cold and warm.
    struct Symbolicate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time symbolication of a captured stack, cold (fresh thread) and warm.")

        @Option(help: "Fresh threads: one cold symbolication each, then the warm repeats.")
        var threads = 6

        @Option(help: "Warm symbolications per thread.")
        var repeats = 40

        @Option(help: "The symbolicator: lean (LoopWatchdog's own reader), runtime (the toolchain's Runtime module) or libdw (elfutils).")
        var candidate: String = "lean"

        func run() throws {
            let addresses = StackSample.parkedThread()
            let unseen = StackSample.spinningThread()
            SymbolicationBenchmark.run(
                binary: "demo-sized", addresses: addresses, unseen: unseen, threads: threads, repeats: repeats,
                warmTargetMilliseconds: 5, candidate: try symbolicationCandidate(candidate))
        }
    }

    /// Detection latency as a user sees it: threshold crossed to `stall.began` delivered.
    struct Detection: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delay from the threshold crossing to the delivered stall.began event.")

        @Option(help: "Injected stalls (half spin, half sleep).")
        var stalls = 200

        @Option(help: "Threshold in milliseconds (the interval is a tenth of it).")
        var thresholdMilliseconds = 50

        func run() {
            DetectionBenchmark.run(
                binary: "demo-sized", stalls: stalls, threshold: .milliseconds(thresholdMilliseconds))
        }
    }
}
