import CLoopWatchdog
import Dispatch
import Glibc
import LoopWatchdog
import Synchronization

/// `loop-watchdog demo concurrency`: blocks Swift Concurrency workers the way careless async
/// code does. First one task makes a blocking call inside an async function for 300 ms: it
/// takes one worker of N, the pool is not starved, and the job watch reports that one job
/// with its worker's stack and exact duration. Then as many tasks as the pool has threads
/// each block for 300 ms, so no other task can run, then each spins for 250 ms: each job is
/// reported, and so is the starved pool, with the stacks of the busy workers and how long
/// new work waited.
enum ConcurrencyDemo {
    static func run() {
        let reports = DemoEventWaiter()
        let watchdog = Watchdog(onEvent: reports.handle)
        watchdog.start()
        let poolWatch = watchdog.watchConcurrencyPool()
        defer {
            poolWatch.stop()
            watchdog.stop()
        }
        let width = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        usleep(300_000)
        say("START: one task blocks 300 ms in usleep inside an async function (one worker of \(width))")
        _ = runBlockingTasks(count: 1, milliseconds: 300, spin: false)
        reports.waitForEnded()
        usleep(300_000)
        say("then \(width) tasks, one per pool thread, each blocks 300 ms in usleep inside an async function")
        report(runBlockingTasks(count: width, milliseconds: 300, spin: false))
        reports.waitForEnded(count: poolWatch.watchesJobs ? width + 1 : 1)
        usleep(300_000)
        say("then \(width) tasks each spin 250 ms on the CPU inside an async function")
        report(runBlockingTasks(count: width, milliseconds: 250, spin: true))
        reports.waitForEnded(count: poolWatch.watchesJobs ? width + 1 : 1)
        usleep(300_000)
        say("DONE")
    }

    /// Prints how long every pool thread was busy: from the last task's start to the first
    /// task's end.
    static func report(_ spans: [(start: Int64, end: Int64)]) {
        let starved = (spans.map(\.end).min() ?? 0) - (spans.map(\.start).max() ?? 0)
        say("  every pool thread was busy for \(milliseconds(starved)) ms (last task start to first task end)")
    }

    /// Starts `count` medium-priority tasks that each block for `milliseconds` (in a sleep,
    /// or spinning), waits for all of them and returns when each ran.
    static func runBlockingTasks(count: Int, milliseconds: Int, spin: Bool) -> [(start: Int64, end: Int64)] {
        let spans = SpanCollector()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Task.detached(priority: .medium) {
                let start = lwd_monotonic_ns()
                if spin {
                    _ = await renderReportSpinning(milliseconds: milliseconds)
                } else {
                    _ = await loadReportBlocking(milliseconds: milliseconds)
                }
                let end = lwd_monotonic_ns()
                spans.append(start: start, end: end)
                done.signal()
            }
        }
        for _ in 0..<count { done.wait() }
        return spans.all
    }
}

/// When each blocking task ran; appended to from the tasks.
final class SpanCollector: Sendable {
    private let spans = Mutex<[(start: Int64, end: Int64)]>([])

    var all: [(start: Int64, end: Int64)] { spans.withLock { $0 } }

    func append(start: Int64, end: Int64) {
        spans.withLock { $0.append((start, end)) }
    }
}

/// An async function that makes a blocking call, the mistake the demo shows: `usleep` holds
/// its pool thread for the whole time instead of suspending (`Task.sleep` would).
@inline(never)
func loadReportBlocking(milliseconds: Int) async -> Int64 {
    let start = lwd_monotonic_ns()
    blockInSleep(milliseconds: UInt32(milliseconds))
    return lwd_monotonic_ns() - start
}

/// An async function that does long CPU work without ever suspending: the same mistake.
@inline(never)
func renderReportSpinning(milliseconds: Int) async -> Int64 {
    let start = lwd_monotonic_ns()
    blockInSpin(milliseconds: Int64(milliseconds))
    return lwd_monotonic_ns() - start
}
