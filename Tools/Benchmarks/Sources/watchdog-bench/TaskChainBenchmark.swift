import BenchSupport
import Dispatch
import LoopWatchdog
import Synchronization

/// Throughput of the Swift Concurrency pool on a chain of task switches (one task that
/// `await Task.yield()`s a million times: each yield is one job enqueued on and run by the
/// global executor), with the job watch off and on. Runs alternate off/on, and on/off in
/// every other pair, so drift hits both sides; each pair gives one ratio (throughput on /
/// off), and the median is reported. `control` makes "on" a second "off": the A/A control
/// that shows what this machine's noise alone makes of the ratio.
///
/// "Off": no watchdog and no hook. "On": a started watchdog with the default 100 ms
/// threshold and `watchConcurrencyPool(priorities: [])`, which installs the job watch only.
enum TaskChainBenchmark {
    static func run(switches: Int, pairs: Int, control: Bool) {
        for _ in 0..<2 { _ = timeChain(switches: switches) }  // warm-up: threads and queues exist
        var ratios: [Double] = []
        var off: [Double] = []
        var on: [Double] = []
        for pair in 0..<pairs {
            var offTime = 0.0
            var onTime = 0.0
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
            ratios.append(offTime / onTime)
        }
        let ratio = Statistics(ratios)
        let label = control ? "off again (A/A control)" : "on"
        ResultTable.row(
            "Concurrency chain of \(switches) task switches (Task.yield), time per chain off / \(label) (ms)",
            "median \(Statistics(off).median.formatted(1)) / \(Statistics(on).median.formatted(1)) (\((Double(switches) / Statistics(off).median / 1e3).formatted(2)) M switches/s off)")
        ResultTable.row(
            "Concurrency chain: throughput ratio \(label)/off, median of \(pairs) alternating pairs",
            "\(ratio.median.formatted(3)) (pairs: min \(ratio.min.formatted(3)), max \(ratio.max.formatted(3)))",
            target: control ? "-" : "≥ 0.98",
            control ? .info : ResultTable.verdict(ratio.median >= 0.98))
    }

    /// One chain of `switches` yields in one task; its wall time in ms.
    private static func timeChain(switches: Int) -> Double {
        let done = DispatchSemaphore(value: 0)
        let elapsed = Mutex<Int64>(0)
        Task.detached(priority: .medium) {
            let start = monotonicNanoseconds()
            for _ in 0..<switches { await Task.yield() }
            let time = monotonicNanoseconds() - start
            elapsed.withLock { $0 = time }
            done.signal()
        }
        done.wait()
        return Double(elapsed.withLock { $0 }) / 1e6
    }
}
