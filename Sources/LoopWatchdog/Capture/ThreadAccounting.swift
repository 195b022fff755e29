import CLoopWatchdog

/// What the kernel had counted for one thread at one moment: its time on a CPU and waiting
/// for one (schedstat), and the bytes it passed through read-like and write-like system
/// calls (/proc/self/task/TID/io). Two readings tell how the thread spent the time between
/// them. Nil fields could not be read (a kernel without schedstats, a masked /proc).
struct ThreadAccounting: Sendable, Hashable {
    /// Monotonic ns at which it was read.
    var at: Int64
    var onCPU: Int64?
    var waiting: Int64?
    var readBytes: Int64?
    var writtenBytes: Int64?

    /// Reads thread `threadID` at `now`, through its `files` kept open where there are;
    /// nil when the thread is gone.
    static func read(threadID: Int32, files: ThreadProcFiles = .none, now: Int64) -> ThreadAccounting? {
        var raw = lwd_thread_accounting()
        guard lwd_read_thread_accounting(threadID, files.schedstat, files.io, &raw) == 0 else { return nil }
        func known(_ value: Int64) -> Int64? { value >= 0 ? value : nil }
        return ThreadAccounting(
            at: now, onCPU: known(raw.on_cpu_ns), waiting: known(raw.waiting_ns),
            readBytes: known(raw.read_bytes), writtenBytes: known(raw.written_bytes))
    }
}

/// What the kernel had counted for the whole process's CPU at one moment: the time its
/// cgroup was throttled by a CPU quota (cgroup v1 `throttled_time`, v2 `throttled_usec`)
/// and the machine's CPU pressure (PSI "some" total: time some runnable task waited).
struct ProcessAccounting: Sendable, Hashable {
    var throttled: Int64?
    var cpuPressure: Int64?
}

/// Reads ``ProcessAccounting`` through files opened once, on the watchdog thread: the
/// cgroup's cpu.stat (found through /proc/self/cgroup when the watchdog thread starts; a
/// process moved to another cgroup later is still read in the first) and
/// /proc/pressure/cpu. Owned by the watchdog thread.
final class ProcessAccountingReader {
    private let cpuStat: Int32
    private let cpuStatIsV1: Bool
    private let pressure: Int32

    /// Opens the files; what the kernel or container does not offer is left out.
    init() {
        var isV1: Int32 = 0
        cpuStat = lwd_open_cgroup_cpu_stat(&isV1)
        cpuStatIsV1 = isV1 != 0
        pressure = lwd_open_cpu_pressure()
    }

    deinit {
        if cpuStat >= 0 { lwd_close_fd(cpuStat) }
        if pressure >= 0 { lwd_close_fd(pressure) }
    }

    /// The current totals (two preads).
    func read() -> ProcessAccounting {
        let throttled = cpuStat >= 0 ? lwd_read_cgroup_throttled_ns(cpuStat, cpuStatIsV1 ? 1 : 0) : -1
        let pressureTotal = pressure >= 0 ? lwd_read_cpu_pressure_ns(pressure) : -1
        return ProcessAccounting(
            throttled: throttled >= 0 ? throttled : nil, cpuPressure: pressureTotal >= 0 ? pressureTotal : nil)
    }
}
