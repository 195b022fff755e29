/// Tells how much of the time since the watchdog's last tick nothing in the process ran
/// (the process was stopped, the machine paused), so that this time is never blamed on a
/// loop. Pure: every input is passed in; tested with manual time.
///
/// A tick is late by the time between its due time and `now`. Of that lateness, the time
/// the watchdog thread itself ran or waited for a CPU (its schedstat, where the kernel has
/// it) and the time it waited for captures (each counted up to ``captureWaitBound``) was
/// not a pause: a watchdog starved of CPU by busy threads must still report the stalls it
/// sees, late, rather than forgive them. What is left counts as missed only when it is more
/// than the smallest threshold in force. Owned by the watchdog thread.
struct PauseAccounting {
    /// The most of one capture's wait that counts as busy: the capture's signal timeout,
    /// twice. A longer wait means the process was stopped during it.
    let captureWaitBound: Int64
    /// The watchdog thread's running + runnable time at the last tick, when known.
    private var lastScheduled: Int64?
    /// Capture waits since the last tick, each bounded.
    private var captureWaits: Int64 = 0

    init(captureWaitBound: Int64) {
        self.captureWaitBound = captureWaitBound
    }

    /// Counts `nanoseconds` spent waiting for one capture as busy time of the watchdog.
    mutating func noteCaptureWait(_ nanoseconds: Int64) {
        captureWaits += min(max(nanoseconds, 0), captureWaitBound)
    }

    /// The missed time of the tick at `now`, or 0.
    /// - Parameters:
    ///   - due: when this tick was due (the last tick plus its interval); nil for the first.
    ///   - scheduled: the watchdog thread's running + runnable time read with `now`, or nil
    ///     when unknown (then all lateness beyond the waits counts as missed).
    ///   - smallestThreshold: the smallest threshold in force, in ns.
    mutating func missedTime(now: Int64, due: Int64?, scheduled: Int64?, smallestThreshold: Int64) -> Int64 {
        let previousScheduled = lastScheduled
        lastScheduled = scheduled
        let waited = captureWaits
        captureWaits = 0
        guard let due else { return 0 }
        var late = now - due - waited
        if let scheduled, let previousScheduled {
            late -= max(scheduled - previousScheduled, 0)
        }
        return late > smallestThreshold ? late : 0
    }
}
