/// Tells a probed loop whose probe is late because its thread (a pool's workers) got no
/// CPU from one whose code blocks. Pure: the scheduler samples are passed in; tested with
/// manual time.
///
/// Fed only while the loop is well overdue with no stall reported yet: the first sample set
/// is the baseline; once at least three intervals have passed since it, the loop counts as
/// starved when one of its threads spent that time mostly waiting for a CPU
/// (``SchedulerSample/waitedForCPU(since:)``), and the baseline starts again. Judged on the
/// whole time since the baseline, so that a thread that runs in short slices on a busy
/// machine is not mistaken for a starved one. Owned by the watchdog thread.
struct CPUStarvationCheck {
    private var baseline: [Int32: SchedulerSample]?

    /// True while a baseline is held: the caller reads fresh samples at each tick then.
    var isWatching: Bool { baseline != nil }

    /// The loop answers again (or a stall is reported): forget the baseline.
    mutating func reset() {
        baseline = nil
    }

    /// Takes the samples of the loop's threads read at `now`; returns true when the loop is
    /// starved of CPU. `interval` is the watchdog's interval in ns.
    mutating func observe(_ samples: [Int32: SchedulerSample], now: Int64, interval: Int64) -> Bool {
        guard let baseline else {
            self.baseline = samples
            return false
        }
        guard let start = baseline.values.first?.at,
            now - start >= 3 * max(interval, ThresholdRule.minimumIntervalNanoseconds)
        else { return false }
        let starved = samples.contains { tid, sample in
            baseline[tid].map { sample.waitedForCPU(since: $0) } ?? false
        }
        if starved { self.baseline = samples }
        return starved
    }
}
