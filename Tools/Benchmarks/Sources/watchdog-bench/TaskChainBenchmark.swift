import BenchSupport
import Dispatch
import LoopWatchdog
import Glibc
import Synchronization

/// Throughput of the Swift Concurrency pool on a chain of task switches (one task that
/// `await Task.yield()`s a million times: each yield is one job enqueued on and run by the
/// global executor), with the job watch off and on. Runs alternate off/on, and on/off in
/// every other pair, so drift hits both sides; each pair gives one ratio (throughput on /
/// off), and the median is reported. `control` makes "on" a second "off": the A/A control
/// that shows what this machine's noise alone makes of the ratio.
///
/// Each run is timed on the wall clock and on the process's CPU clock (every thread: the
/// pool's workers and the watchdog thread's ticks included). On this shared machine the wall
/// clock swings by tens of percent between runs for reasons outside the process; the CPU
/// time of the same work swings much less, and is what the verdict uses: the cost of the
/// watch is CPU spent per job.
///
/// "Off": no watchdog and no hook. "On": a started watchdog with the default 100 ms
/// threshold and `watchConcurrencyPool(priorities: [])`, which installs the job watch only.
enum TaskChainBenchmark {
    static func run(switches: Int, pairs: Int, control: Bool) {
        for _ in 0..<2 { _ = timeChain(switches: switches) }  // warm-up: threads and queues exist
        var wallRatios: [Double] = []
        var cpuRatios: [Double] = []
        var off: [Timing] = []
        var on: [Timing] = []
        for pair in 0..<pairs {
            var offTime = Timing(wall: 0, cpu: 0)
            var onTime = Timing(wall: 0, cpu: 0)
            for watched in pair % 2 == 0 ? [false, true] : [true, false] {
                if watched && !control {
                    let watchdog = Watchdog.quiet()
                    watchdog.start()
                    let watch = watchdog.watchConcurrencyPool(priorities: [])
                    onTime = timeChain(switches: switches)
                    watch.stop()
                    watchdog.stop()
                } else if watched {
                    onTime = timeChain(switches: switches)
                } else {
                    offTime = timeChain(switches: switches)
                }
            }
            off.append(offTime)
            on.append(onTime)
            wallRatios.append(offTime.wall / onTime.wall)
            cpuRatios.append(offTime.cpu / onTime.cpu)
        }
        let wall = Statistics(wallRatios)
        let cpu = Statistics(cpuRatios)
        let label = control ? "off again (A/A control)" : "on"
        let offWall = Statistics(off.map(\.wall)).median
        ResultTable.row(
            "Concurrency chain of \(switches) task switches (Task.yield), wall time per chain off / \(label) (ms)",
            "median \(offWall.formatted(1)) / \(Statistics(on.map(\.wall)).median.formatted(1)) (\((Double(switches) / offWall / 1e3).formatted(2)) M switches/s off)")
        ResultTable.row(
            "Concurrency chain: process CPU time per chain off / \(label) (ms)",
            "median \(Statistics(off.map(\.cpu)).median.formatted(1)) / \(Statistics(on.map(\.cpu)).median.formatted(1))")
        ResultTable.row(
            "Concurrency chain: wall-clock throughput ratio \(label)/off, median of \(pairs) alternating pairs",
            "\(wall.median.formatted(3)) (pairs: min \(wall.min.formatted(3)), max \(wall.max.formatted(3)))")
        ResultTable.row(
            "Concurrency chain: CPU throughput ratio \(label)/off (switches per CPU second), median of \(pairs) alternating pairs",
            "\(cpu.median.formatted(3)) (pairs: min \(cpu.min.formatted(3)), max \(cpu.max.formatted(3)))",
            target: control ? "-" : "≥ 0.98",
            control ? .info : ResultTable.verdict(cpu.median >= 0.98))
    }

    /// One chain's time, in ms.
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    /// One chain of `switches` yields in one task; its wall time and the process's CPU time.
    private static func timeChain(switches: Int) -> Timing {
        let done = DispatchSemaphore(value: 0)
        let elapsed = Mutex<(Int64, Int64)>((0, 0))
        Task.detached(priority: .medium) {
            let start = monotonicNanoseconds()
            let startCPU = processCPUNanoseconds()
            for _ in 0..<switches { await Task.yield() }
            let time = (monotonicNanoseconds() - start, processCPUNanoseconds() - startCPU)
            elapsed.withLock { $0 = time }
            done.signal()
        }
        done.wait()
        let (wall, cpu) = elapsed.withLock { $0 }
        return Timing(wall: Double(wall) / 1e6, cpu: Double(cpu) / 1e6)
    }

    /// CPU time of every thread of the process so far.
    private static func processCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
