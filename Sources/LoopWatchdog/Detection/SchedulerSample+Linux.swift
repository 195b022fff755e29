import CLoopWatchdog

/// How much CPU a thread has had, how long it waited for one, and whether it is runnable,
/// at one moment: the kernel's per-thread scheduler statistics
/// (/proc/self/task/TID/schedstat and the state in /proc/self/task/TID/stat).
///
/// A probed loop whose probe is late because its thread was runnable but got no CPU (the
/// machine is overloaded) is not blocked by its own code; comparing two samples tells the
/// two apart. Read on the watchdog thread, only while a probed loop is well overdue.
struct SchedulerSample: Sendable, Hashable {
    /// Monotonic ns at which it was read.
    var at: Int64
    /// Total time the thread ran on a CPU, in ns.
    var onCPU: Int64
    /// Total time the thread waited for a CPU, in ns, as of the last time it got one.
    var waiting: Int64
    /// True when the thread was running or runnable ('R'), false when it was blocked.
    var isRunnable: Bool

    /// Reads thread `tid`'s statistics at `now`; nil when they cannot be read.
    static func read(threadID tid: Int32, now: Int64) -> SchedulerSample? {
        var onCPU: Int64 = 0
        var waiting: Int64 = 0
        guard lwd_read_thread_schedstat(tid, &onCPU, &waiting) == 0 else { return nil }
        let state = lwd_read_thread_run_state(tid)
        guard state > 0 else { return nil }
        return SchedulerSample(at: now, onCPU: onCPU, waiting: waiting, isRunnable: state == Int32(UInt8(ascii: "R")))
    }

    /// True when, since `earlier`, the thread ran at most a tenth of the time and either
    /// stayed runnable (it is waiting for a CPU now and was then) or spent at least half the
    /// time waiting for one: it was starved of CPU, not busy and not blocked. A loop blocked
    /// in a system call is not runnable and does not wait; a spinning loop runs.
    func waitedForCPU(since earlier: SchedulerSample) -> Bool {
        let elapsed = at - earlier.at
        guard elapsed > 0, (onCPU - earlier.onCPU) * 10 <= elapsed else { return false }
        return (isRunnable && earlier.isRunnable) || (waiting - earlier.waiting) * 2 >= elapsed
    }
}
