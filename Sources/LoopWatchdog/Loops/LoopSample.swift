/// A snapshot of a loop's progress, as the watchdog saw it at one tick.
struct LoopSample: Sendable, Hashable {
    /// The progress counter.
    var progress: UInt64
    /// Monotonic ns at which the loop went idle, or 0 while busy.
    var idleSince: Int64
    /// Monotonic ns at which the loop last went busy; 0 when unknown (a pool worker watched
    /// job by job: its jobs read no clock when they begin).
    var busySince: Int64
    /// For a pool worker watched job by job: monotonic ns at which the job flagged as stalled
    /// ended, once it has; 0 otherwise.
    var jobEndedAt: Int64 = 0
    /// Monotonic ns at which the loop last ran a probe; 0 before the first.
    var probeRanAt: Int64 = 0
    /// Monotonic ns at which it ran the probe before that one; 0 before the second.
    var previousProbeRanAt: Int64 = 0
    /// Whether the loop is probed, and when its next probe is due.
    var probe: ProbeState = .notProbed
    /// The measured ticks in which the last two probes ran, latest first, in monotonic ns,
    /// when the loop measures its ticks.
    var probeTicks: [ClosedRange<Int64>] = []
    /// Set by the watchdog when the loop's thread (a pool's worker), overdue, was waiting for
    /// a CPU rather than running or blocked (``SchedulerSample``).
    var waitedForCPU = false

    /// True for a loop watched by probes rather than by beats and idle marks.
    var isProbed: Bool { probe != .notProbed }
}
