// Micro-benchmarks of the loop's side of LoopWatchdog: what a loop pays per `beat()` and per
// idle/busy pair, in time and in allocations. Counts are scaled per beat (`.mega`: the body
// runs a million beats and the runner divides).
import Benchmark
import LoopWatchdog

/// Not started: a beat costs the same whether or not the watchdog thread runs, and the
/// runner's numbers stay free of its wake-ups.
private let watchdog = Watchdog(configuration: Configuration(enabled: true))

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 200
    )

    Benchmark("beat") { benchmark in
        let heartbeat = watchdog.registerCurrentThread(name: "bench")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            heartbeat.beat()
        }
        benchmark.stopMeasurement()
        heartbeat.unregister()
    }

    // Control: proves the malloc counter counts here (expect 1 per iteration), so that the
    // zeros above mean something.
    Benchmark("control: one array allocation", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole([index])
        }
    }

    Benchmark("markIdle+markBusy", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let heartbeat = watchdog.registerCurrentThread(name: "bench")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            heartbeat.markIdle()
            heartbeat.markBusy()
        }
        benchmark.stopMeasurement()
        heartbeat.unregister()
    }
}
