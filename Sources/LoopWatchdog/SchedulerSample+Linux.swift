import CLoopWatchdog

/// How much CPU a thread has had, and how long it has waited for one, at one moment: the
/// kernel's per-thread scheduler statistics (/proc/self/task/TID/schedstat).
///
/// A probed loop whose probe is late because its thread was runnable but got no CPU (the
/// machine is overloaded) is not blocked by its own code; comparing two samples tells the
/// two apart. Read on the watchdog thread, only while a probed loop is well overdue.
struct SchedulerSample: Sendable, Hashable {
    /// Monotonic ns at which it was read.
    var at: Int64
    /// Total time the thread ran on a CPU, in ns.
    var onCPU: Int64
    /// Total time the thread was runnable, waiting for a CPU, in ns.
    var waiting: Int64

    /// Reads thread `tid`'s statistics at `now`; nil when they cannot be read.
    static func read(threadID tid: Int32, now: Int64) -> SchedulerSample? {
        var onCPU: Int64 = 0
        var waiting: Int64 = 0
        guard lwd_read_thread_schedstat(tid, &onCPU, &waiting) == 0 else { return nil }
        return SchedulerSample(at: now, onCPU: onCPU, waiting: waiting)
    }

    /// True when, since `earlier`, the thread spent at least half the time waiting for a
    /// CPU and at most a tenth running: it was starved of CPU, not busy and not blocked.
    /// (A loop blocked in a system call neither runs nor waits; a loop spinning runs.)
    func waitedForCPU(since earlier: SchedulerSample) -> Bool {
        let elapsed = at - earlier.at
        guard elapsed > 0 else { return false }
        return (waiting - earlier.waiting) * 2 >= elapsed && (onCPU - earlier.onCPU) * 10 <= elapsed
    }
}
