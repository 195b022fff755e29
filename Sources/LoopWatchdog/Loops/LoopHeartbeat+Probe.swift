import CLoopWatchdog

extension LoopHeartbeat {
    /// Records that the loop has just run its probe, and that it will run the next one
    /// within `period`. Use it instead of beats and idle marks for an executor you cannot
    /// instrument (a SwiftNIO event loop, a dispatch queue, a task pool): schedule a small job
    /// on it every `period` (``Watchdog/probeInterval(for:)``) that calls this method.
    ///
    /// Once a probe was recorded, the loop is never idle: it is late when the next probe has
    /// not run by its due time. A stall is reported when the loop stays late past its
    /// threshold; it began between the last probe run and that due time (its start is known
    /// to half a period) and ends exactly when the late probe runs. So keep `period` well
    /// below the threshold: a tenth of it costs an idle loop ten wake-ups per threshold and
    /// keeps the error on durations within 5 % of the threshold.
    ///
    /// Cost: one clock read, one load and four stores. Call it from the probe only: probes of
    /// one loop must not overlap (each runs after the previous one finished), but they may run
    /// on different threads, as a pool's do.
    public func probeRan(nextDueIn period: Duration) {
        let now = lwd_monotonic_ns()
        record.recordProbe(ranAt: now, next: .due(at: now &+ max(period.clampedNanoseconds, 1)))
    }

    /// Records the span of one tick the loop measured itself: a stretch of work without
    /// waiting in between, in CLOCK_MONOTONIC nanoseconds (`NIODeadline.uptimeNanoseconds`
    /// on Linux).
    ///
    /// Only useful together with probes (``probeRan(nextDueIn:)``): when a stall ends and the
    /// tick in which the late probe ran began after the probe before the stall, the stall is
    /// dated from that tick's start instead of being estimated, so its `ended` duration is
    /// exact. Only ticks in which a probe ran are kept (the last two). Call it on the loop's
    /// thread, after each tick; cost: a few loads and, after a probe, a few stores.
    public func recordTick(startNanoseconds: UInt64, endNanoseconds: UInt64) {
        let start = Int64(clamping: startNanoseconds)
        let end = Int64(clamping: endNanoseconds)
        guard start > 0, start <= end else { return }
        record.recordTick(start: start, end: end)
    }

    /// True once the loop was unregistered, by ``unregister()`` or because its thread exited.
    public var isUnregistered: Bool {
        record.retired.load(ordering: .relaxed)
    }
}
