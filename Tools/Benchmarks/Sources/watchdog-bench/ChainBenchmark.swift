import BenchSupport
import LoopWatchdog
import NIOCore
import NIOPosix

/// Throughput of a NIO event loop running a chain of tiny tasks, each scheduling the next
/// with `execute` (the callback-heavy loop on which asyncio's debug mode is 14x slower),
/// with the watchdog off and on. Runs alternate off/on, and on/off in every other pair, so
/// drift hits both sides; each pair gives one ratio, and the median ratio is reported.
/// Two clocks: wall time (the throughput a user sees; on a shared machine it also counts
/// every moment another process held the core) and the loop thread's own CPU time (what the
/// watchdog adds to the loop's work, insensitive to other load; it misses time the
/// watchdog thread would take from the loop thread's core, which the wall clock shows).
///
/// With `timerPending`, off and on runs alike keep one task scheduled an hour ahead, as any
/// server with an idle or request timeout does. NIO's loop runs this chain measurably
/// slower while its scheduled-task heap is not empty (`--variant timer` shows it with no
/// watchdog at all); with a timer pending in both, the probe's repeated task no longer
/// makes that difference between off and on.
///
/// "Off": no watchdog thread exists. "On": the watchdog runs with the default 100 ms
/// threshold and the loop is watched through ``NIOWatch``. For attributing a difference,
/// "on" can also be only one half of that: the watchdog thread running with the loop not
/// watched (`thread`), or the loop's probe task alone with no watchdog thread (`probe`).
enum ChainBenchmark {
    /// What "on" means for one run.
    enum Variant: String, CaseIterable, Sendable {
        case full, thread, probe, timer, none
    }

    /// The pause before each timed chain: longer than the first probe's delay (25 ms).
    private static let settleNanoseconds: Int64 = 30_000_000

    static func run(tasks: Int, pairs: Int, variant: Variant = .full, timerPending: Bool = false) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let timer = timerPending ? loop.scheduleTask(in: .hours(1)) {} : nil
        defer { timer?.cancel() }
        for _ in 0..<3 { _ = try timeChain(on: loop, tasks: tasks) }  // warm-up
        var off: [Double] = []
        var on: [Double] = []
        var ratios: [Double] = []
        var cpuRatios: [Double] = []
        var offCPU: [Double] = []
        var onCPU: [Double] = []
        for pair in 0..<pairs {
            var offTime = Timing(wall: 0, cpu: 0)
            var onTime = Timing(wall: 0, cpu: 0)
            for watched in pair % 2 == 0 ? [false, true] : [true, false] {
                if watched {
                    onTime = try timeWatched(group: group, loop: loop, tasks: tasks, variant: variant)
                } else {
                    sleepInKernel(nanoseconds: settleNanoseconds)  // as before a watched run
                    offTime = try timeChain(on: loop, tasks: tasks)
                }
            }
            off.append(offTime.wall)
            on.append(onTime.wall)
            ratios.append(offTime.wall / onTime.wall)  // throughput on / throughput off
            cpuRatios.append(offTime.cpu / onTime.cpu)
            offCPU.append(offTime.cpu)
            onCPU.append(onTime.cpu)
        }
        let offStats = Statistics(off)
        let onStats = Statistics(on)
        let ratio = Statistics(ratios)
        let cpuRatio = Statistics(cpuRatios)
        let onLabel = label(variant) + (timerPending ? ", a timer pending in both" : "")
        ResultTable.row(
            "NIO chain of \(tasks) tasks (execute → execute), time per chain off / \(onLabel) (ms)",
            "median \(offStats.median.formatted(1)) / \(onStats.median.formatted(1)) (\((Double(tasks) / offStats.median / 1e3).formatted(2)) M tasks/s off)")
        ResultTable.row(
            "NIO chain: throughput ratio \(onLabel)/off, median of \(pairs) alternating pairs",
            "\(ratio.median.formatted(3)) (pairs: min \(ratio.min.formatted(3)), max \(ratio.max.formatted(3)))",
            target: variant == .full ? "≥ 0.99" : "-",
            variant == .full ? ResultTable.verdict(ratio.median >= 0.99) : .info)
        ResultTable.row(
            "NIO chain: loop thread CPU time ratio off/\(onLabel) (its throughput ratio on its own clock), median of \(pairs) pairs",
            "\(cpuRatio.median.formatted(3)) (pairs: min \(cpuRatio.min.formatted(3)), max \(cpuRatio.max.formatted(3))); fastest runs: wall \((offStats.min / onStats.min).formatted(3)), CPU \((Statistics(offCPU).min / Statistics(onCPU).min).formatted(3))",
            target: variant == .full ? "≥ 0.99" : "-",
            variant == .full ? ResultTable.verdict(cpuRatio.median >= 0.99) : .info)
    }

    /// How the rows name the "on" side.
    private static func label(_ variant: Variant) -> String {
        switch variant {
        case .full: "on"
        case .none: "off again (A/A control)"
        case .thread, .probe, .timer: "on (\(variant.rawValue) only)"
        }
    }

    /// One chain's wall time and the loop thread's CPU time for it, in ms.
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    /// One chain with the watchdog on (as `variant` says); only the chain is timed.
    private static func timeWatched(
        group: MultiThreadedEventLoopGroup, loop: any EventLoop, tasks: Int, variant: Variant
    ) throws -> Timing {
        let watchdog = Watchdog.quiet()
        if variant == .full || variant == .thread { watchdog.start() }
        let watch = variant == .full || variant == .probe ? try NIOWatch.watch(group, with: watchdog) : nil
        let timer = variant == .timer ? loop.scheduleTask(in: .hours(1)) {} : nil
        defer { timer?.cancel() }
        sleepInKernel(nanoseconds: settleNanoseconds)  // first probes have run: steady state
        let time = try timeChain(on: loop, tasks: tasks)
        try watch?.stop()
        watchdog.stop()
        return time
    }

    /// Runs one chain of `tasks` tasks on `loop`; returns its times.
    private static func timeChain(on loop: any EventLoop, tasks: Int) throws -> Timing {
        let chain = Chain(loop: loop, remaining: tasks)
        let start = monotonicNanoseconds()
        loop.execute {
            chain.cpuStart = threadCPUNanoseconds()
            chain.step()
        }
        let cpu = try chain.done.futureResult.wait()
        return Timing(wall: Double(monotonicNanoseconds() - start) / 1e6, cpu: Double(cpu) / 1e6)
    }

    /// The chain's state; touched only on its loop.
    private final class Chain: @unchecked Sendable {
        let loop: any EventLoop
        /// Succeeds with the loop thread's CPU time over the chain, in ns.
        let done: EventLoopPromise<Int64>
        var remaining: Int
        var cpuStart: Int64 = 0

        init(loop: any EventLoop, remaining: Int) {
            self.loop = loop
            self.done = loop.makePromise()
            self.remaining = remaining
        }

        func step() {
            remaining -= 1
            if remaining == 0 {
                done.succeed(threadCPUNanoseconds() - cpuStart)
            } else {
                loop.execute { self.step() }
            }
        }
    }
}
