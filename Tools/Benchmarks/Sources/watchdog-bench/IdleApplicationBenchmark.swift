import BenchSupport
import Dispatch
import Glibc
import LoopWatchdog
import LoopWatchdogNIO
import NIOCore
import NIOPosix

/// What an idle application pays for the watchdog: the CPU time of the whole process
/// (every thread, CLOCK_PROCESS_CPUTIME_ID, exact) while a NIO group waits for work and the
/// Concurrency pool has nothing to do, with the watchdog on (the group watched with
/// `watch(eventLoopGroup:)`, the pool with `watchConcurrencyPool()`, jobs included: what
/// an application sets up) and off (the same group and pool, no watchdog). Each setting in a
/// fresh group, rounds alternating; the cost is the median difference, as a share of a core.
enum IdleApplicationBenchmark {
    static func run(seconds: Double, rounds: Int = 3) {
        for loops in [System.coreCount, 64] {
            var off: [Double] = []
            var on: [Double] = []
            for round in 0..<rounds {
                for watched in (round % 2 == 0 ? [false, true] : [true, false]) {
                    let share = measure(loops: loops, watched: watched, seconds: seconds)
                    if watched { on.append(share) } else { off.append(share) }
                }
            }
            let cost = Statistics(zip(on, off).map { $0 - $1 }).median
            let measurement = "idle application, \(loops) NIO loops and the Concurrency pool, 100 ms threshold: process CPU on / off, and the difference (median of \(rounds) alternating rounds of \(Int(seconds)) s)"
            let result = "\(Statistics(on).median.formatted(3)) % / \(Statistics(off).median.formatted(3)) % of one core; watchdog \(cost.formatted(3)) %"
            if loops == System.coreCount {
                ResultTable.row(measurement, result, target: "≤ 0.2 %", ResultTable.verdict(cost <= 0.2))
            } else {
                ResultTable.row(measurement, result)
            }
        }
    }

    /// The process's CPU over `seconds` of idleness, as a percentage of one core.
    private static func measure(loops: Int, watched: Bool, seconds: Double) -> Double {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        defer { try? group.syncShutdownGracefully() }
        var watchdog: Watchdog?
        var loopWatch: EventLoopGroupWatch?
        var poolWatch: ConcurrencyPoolWatch?
        if watched {
            let started = Watchdog.quiet()
            started.start()
            loopWatch = started.watch(eventLoopGroup: group)
            poolWatch = started.watchConcurrencyPool()
            watchdog = started
        }
        // Every loop and pool worker started and settled, then one job on the pool, as an
        // application's start-up runs some.
        for loop in group.makeIterator() { _ = try? loop.submit {}.wait() }
        let ran = DispatchSemaphore(value: 0)
        Task.detached { ran.signal() }
        ran.wait()
        sleepInKernel(nanoseconds: 500_000_000)
        let cpuStart = processCPUNanoseconds()
        let wallStart = monotonicNanoseconds()
        sleepInKernel(nanoseconds: Int64(seconds * 1e9))
        let cpu = processCPUNanoseconds() - cpuStart
        let wall = monotonicNanoseconds() - wallStart
        loopWatch?.stop()
        poolWatch?.stop()
        watchdog?.stop()
        return Double(cpu) / Double(wall) * 100
    }

    private static func processCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
