import CLoopWatchdog

/// Whether a debugger or tracer (gdb, strace, ...) is attached to the process: the
/// `TracerPid` of /proc/self/status, read at most once per `maximumAge`.
///
/// Asked only when a report is due (a stall began or goes on), never on every tick, so
/// a process without stalls never reads the file. Owned by the watchdog thread.
struct TracerCheck {
    /// How long an answer is reused.
    static let maximumAge: Int64 = 1_000_000_000

    private var checkedAt: Int64?
    private var tracer: Int32 = 0

    /// The tracer's pid, or 0 when none is attached (or the file cannot be read), as of
    /// at most `maximumAge` before `now` (monotonic ns).
    mutating func tracerPID(now: Int64) -> Int32 {
        if let checkedAt, now - checkedAt < Self.maximumAge, now >= checkedAt {
            return tracer
        }
        checkedAt = now
        tracer = max(lwd_tracer_pid(), 0)
        return tracer
    }
}
