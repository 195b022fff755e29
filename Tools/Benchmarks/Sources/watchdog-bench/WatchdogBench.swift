import ArgumentParser
import BenchSupport

/// `watchdog-bench`: the LoopWatchdog benchmarks that need threads, NIO or a large binary.
/// Every command prints rows of one Markdown table (measurement, result, target, verdict)
/// on standard output; `scripts/benchmarks.sh` runs them all. Links NIOPosix and NIOHTTP1,
/// so it is a NIO-sized binary for the symbolication numbers.
@main
struct WatchdogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchdog-bench",
        abstract: "LoopWatchdog benchmarks: capture, symbolication, detection, idle cost, NIO throughput.",
        subcommands: [
            Heartbeat.self, Capture.self, AsyncCallers.self, Symbolicate.self, Detection.self, Idle.self, Chain.self,
            TaskChain.self,
            HTTPServerCommand.self,
        ]
    )

    struct Heartbeat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nanoseconds per beat() and per markIdle()+markBusy() pair.")

        @Option(help: "Beats per timed round.")
        var beats = 500_000_000

        func run() {
            HeartbeatBenchmark.run(beats: beats)
        }
    }

    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture latency and interruption, signal and signal-free paths.")

        @Option(help: "Captures per path.")
        var captures = 2000

        func run() {
            CaptureBenchmark.run(captures: captures)
        }
    }

    struct AsyncCallers: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "async-callers",
            abstract: "What reading a blocked job's awaiting callers adds to a capture, both paths.")

        @Option(help: "Captures with and without the callers, each, per path.")
        var captures = 1000

        @Option(help: "Awaiting callers above the blocked function.")
        var depth = 20

        func run() {
            AsyncCallersBenchmark.run(captures: captures, depth: depth)
        }
    }

    struct Symbolicate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Symbolication of a blocked NIO loop's stack, cold (fresh thread) and warm.")

        @Option(help: "Fresh threads: one cold symbolication each, then the warm repeats.")
        var threads = 6

        @Option(help: "Warm symbolications per thread.")
        var repeats = 40

        @Option(help: "The symbolicator: lean (LoopWatchdog's own reader), runtime (the toolchain's Runtime module) or libdw (elfutils).")
        var candidate: String = "lean"

        func run() throws {
            let addresses = try NIOStackSample.blockedLoop()
            let unseen = StackSample.spinningThread()
            SymbolicationBenchmark.run(
                binary: "NIO", addresses: addresses, unseen: unseen, threads: threads, repeats: repeats,
                candidate: try symbolicationCandidate(candidate))
        }
    }

    struct Detection: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delay from the threshold crossing to the delivered stall.began event.")

        @Option(help: "Injected stalls (half spin, half sleep).")
        var stalls = 200

        @Option(help: "Threshold in milliseconds (the interval is a tenth of it).")
        var thresholdMilliseconds = 50

        func run() {
            DetectionBenchmark.run(binary: "NIO", stalls: stalls, threshold: .milliseconds(thresholdMilliseconds))
        }
    }

    struct Idle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CPU time of the watchdog thread with idle loops.")

        @Option(help: "Seconds measured per loop count.")
        var seconds = 5.0

        @Option(parsing: .upToNextOption, help: "Loop counts to measure.")
        var loops = [1, 8, 64]

        @Flag(help: "Measure only the idle application (NIO loops and the Concurrency pool).")
        var applicationOnly = false

        func run() {
            if applicationOnly {
                IdleApplicationBenchmark.run(seconds: seconds)
            } else {
                IdleBenchmark.run(loopCounts: loops, seconds: seconds)
            }
        }
    }

    struct Chain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "NIO execute-chain throughput with the watchdog off and on.")

        @Option(help: "Tasks per chain.")
        var tasks = 200_000

        @Option(help: "Alternating off/on pairs.")
        var pairs = 30

        @Option(help: "What 'on' means: full (watchdog and probe), thread (watchdog only), probe (probe only), timer (a pending timer only), none (an A/A control).")
        var variant = "full"

        @Flag(help: "Keep one task scheduled an hour ahead in off and on runs alike, as a server with a timeout does.")
        var timerPending = false

        func run() throws {
            guard let chosen = ChainBenchmark.Variant(rawValue: variant) else {
                throw ValidationError("--variant must be full, thread, probe, timer or none")
            }
            try ChainBenchmark.run(tasks: tasks, pairs: pairs, variant: chosen, timerPending: timerPending)
        }
    }

    struct TaskChain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "task-chain",
            abstract: "Swift Concurrency task-switch throughput with the job watch off and on.")

        @Option(help: "Task switches (Task.yield) per chain.")
        var switches = 1_000_000

        @Option(help: "Alternating off/on pairs.")
        var pairs = 10

        @Flag(help: "Make 'on' a second 'off': the A/A control.")
        var control = false

        func run() {
            TaskChainBenchmark.run(switches: switches, pairs: pairs, control: control)
        }
    }
}
