import BenchSupport
import LoopWatchdog
import NIOCore
import NIOPosix

/// Throughput of a NIO event loop running a chain of tiny tasks, each scheduling the next
/// with `execute` (the callback-heavy loop on which asyncio's debug mode is 14x slower),
/// with the watchdog off and on. Runs alternate off/on, and on/off in every other pair, so
/// drift hits both sides; each pair gives one ratio, and the median ratio is reported.
///
/// "Off": no watchdog thread exists. "On": the watchdog runs with the default 100 ms
/// threshold and the loop is watched through ``NIOWatch``.
enum ChainBenchmark {
    /// The pause before each timed chain: longer than the first probe's delay (25 ms).
    private static let settleNanoseconds: Int64 = 40_000_000

    static func run(tasks: Int, pairs: Int) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        for _ in 0..<3 { _ = try timeChain(on: loop, tasks: tasks) }  // warm-up
        var off: [Double] = []
        var on: [Double] = []
        var ratios: [Double] = []
        for pair in 0..<pairs {
            var offTime = 0.0
            var onTime = 0.0
            for watched in pair % 2 == 0 ? [false, true] : [true, false] {
                if watched {
                    onTime = try timeWatched(group: group, loop: loop, tasks: tasks)
                } else {
                    sleepInKernel(nanoseconds: settleNanoseconds)  // as before a watched run
                    offTime = try timeChain(on: loop, tasks: tasks)
                }
            }
            off.append(offTime)
            on.append(onTime)
            ratios.append(offTime / onTime)  // throughput on / throughput off
        }
        let offStats = Statistics(off)
        let onStats = Statistics(on)
        let ratio = Statistics(ratios)
        ResultTable.row(
            "NIO chain of \(tasks) tasks (execute → execute), time per chain off / on (ms)",
            "median \(offStats.median.formatted(1)) / \(onStats.median.formatted(1)) (\((Double(tasks) / offStats.median / 1e3).formatted(2)) M tasks/s off)")
        ResultTable.row(
            "NIO chain: throughput ratio on/off, median of \(pairs) alternating pairs",
            "\(ratio.median.formatted(3)) (pairs: min \(ratio.min.formatted(3)), max \(ratio.max.formatted(3)))",
            target: "≥ 0.99", ResultTable.verdict(ratio.median >= 0.99))
    }

    /// One chain with the watchdog running and the loop watched; only the chain is timed.
    private static func timeWatched(group: MultiThreadedEventLoopGroup, loop: any EventLoop, tasks: Int) throws -> Double {
        let watchdog = Watchdog.quiet()
        watchdog.start()
        let watch = try NIOWatch.watch(group, with: watchdog)
        sleepInKernel(nanoseconds: settleNanoseconds)  // first probes have run: steady state
        let time = try timeChain(on: loop, tasks: tasks)
        try watch.stop()
        watchdog.stop()
        return time
    }

    /// Runs one chain of `tasks` tasks on `loop`; returns its wall time in ms.
    private static func timeChain(on loop: any EventLoop, tasks: Int) throws -> Double {
        let chain = Chain(loop: loop, remaining: tasks)
        let start = monotonicNanoseconds()
        loop.execute { chain.step() }
        try chain.done.futureResult.wait()
        return Double(monotonicNanoseconds() - start) / 1e6
    }

    /// The chain's state; touched only on its loop.
    private final class Chain: @unchecked Sendable {
        let loop: any EventLoop
        let done: EventLoopPromise<Void>
        var remaining: Int

        init(loop: any EventLoop, remaining: Int) {
            self.loop = loop
            self.done = loop.makePromise()
            self.remaining = remaining
        }

        func step() {
            remaining -= 1
            if remaining == 0 {
                done.succeed()
            } else {
                loop.execute { self.step() }
            }
        }
    }
}
