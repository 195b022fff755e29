import BenchSupport
import LoopWatchdog

/// Nanoseconds per `beat()` and per `markIdle()`+`markBusy()` pair, from long timed loops
/// on one thread (the best of five rounds, since interference only ever adds time). The
/// ordo-one/benchmark target `Heartbeat` measures the same calls with its malloc counters;
/// this gives the time with more decimals than its integer nanoseconds.
enum HeartbeatBenchmark {
    static func run(beats: Int) {
        let watchdog = Watchdog.quiet()
        let heartbeat = watchdog.registerCurrentThread(name: "bench")
        var beatTimes: [Double] = []
        var pairTimes: [Double] = []
        for _ in 0..<5 {
            beatTimes.append(timeBeats(heartbeat, count: beats))
            pairTimes.append(timePairs(heartbeat, count: beats / 100))
        }
        heartbeat.unregister()
        let beat = Statistics(beatTimes)
        let pair = Statistics(pairTimes)
        ResultTable.row(
            "heartbeat: beat() (ns per beat, best of 5 rounds of \(beats))",
            "\(beat.min.formatted(3)) (median \(beat.median.formatted(3)))",
            target: "≤ 2 ns", ResultTable.verdict(beat.min <= 2))
        ResultTable.row(
            "heartbeat: markIdle() + markBusy() (ns per pair)",
            "\(pair.min.formatted(1)) (median \(pair.median.formatted(1)))")
    }

    @inline(never)
    private static func timeBeats(_ heartbeat: LoopHeartbeat, count: Int) -> Double {
        let start = monotonicNanoseconds()
        for _ in 0..<count { heartbeat.beat() }
        return Double(monotonicNanoseconds() - start) / Double(count)
    }

    @inline(never)
    private static func timePairs(_ heartbeat: LoopHeartbeat, count: Int) -> Double {
        let start = monotonicNanoseconds()
        for _ in 0..<count {
            heartbeat.markIdle()
            heartbeat.markBusy()
        }
        return Double(monotonicNanoseconds() - start) / Double(count)
    }
}
