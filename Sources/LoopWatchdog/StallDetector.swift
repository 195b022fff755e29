/// Decides, from successive samples of one loop, when a stall begins, goes on and ends.
///
/// A pure state machine: every input, including the current time, is a parameter, so tests
/// drive it with manual time. Times are monotonic nanoseconds. Owned by the watchdog thread.
///
/// Progress is seen only at ticks, so the start of a stall is known to lie between the tick
/// that first saw the final counter value and the tick before it; the detector takes the
/// middle of that window, or the loop's own busy timestamp when it woke inside it. A stall
/// that ends with the loop going idle ends exactly at the loop's idle timestamp.
struct StallDetector: Sendable {
    /// What one observation concluded.
    enum Decision: Sendable, Hashable {
        /// Nothing to report.
        case none
        /// The loop has been blocked for `blocked` and just crossed its threshold.
        case began(stallID: UInt64, blocked: Duration, threshold: Duration)
        /// Still blocked after `blocked`; time for another report.
        case continuing(stallID: UInt64, blocked: Duration, threshold: Duration)
        /// Progress again after being blocked for `blocked` in all.
        case ended(stallID: UInt64, blocked: Duration, threshold: Duration)
    }

    /// The stall in progress.
    struct ActiveStall: Sendable, Hashable {
        var id: UInt64
        var startedAt: Int64
        var threshold: Duration
        var nextReportAt: Int64
        var backoff: Int64
    }

    /// First gap between `continuing` reports; it doubles each time up to `maximumBackoff`.
    static let initialBackoff: Int64 = 1_000_000_000
    /// Largest gap between `continuing` reports.
    static let maximumBackoff: Int64 = 60_000_000_000

    private(set) var lastProgress: UInt64
    /// Best estimate of when the loop last made progress.
    private(set) var progressAt: Int64
    private(set) var active: ActiveStall?

    /// Starts tracking a loop whose state at `now` is `sample`.
    init(sample: LoopSample, now: Int64) {
        lastProgress = sample.progress
        progressAt = sample.idleSince != 0 ? now : min(max(sample.busySince, 0), now)
    }

    /// Takes one sample.
    /// - Parameters:
    ///   - sample: the loop's counters, read at `now`.
    ///   - now: the current tick.
    ///   - previousTick: the tick before, at which the loop was last sampled.
    ///   - threshold: the threshold in force for this loop.
    ///   - nextStallID: called to number a new stall.
    mutating func observe(
        _ sample: LoopSample,
        now: Int64,
        previousTick: Int64,
        threshold: Duration,
        nextStallID: () -> UInt64
    ) -> Decision {
        if sample.progress != lastProgress {
            lastProgress = sample.progress
            let endedAt: Int64
            if sample.idleSince != 0, sample.idleSince > previousTick, sample.idleSince <= now {
                endedAt = sample.idleSince
            } else {
                endedAt = midpoint(previousTick, now)
            }
            // A loop that woke inside the window starts its work right after waking: its
            // busy timestamp is exact, and stays exact when this tick came late (a parked
            // watchdog woken by that very wake-up).
            let wokeInWindow = sample.busySince > previousTick && sample.busySince <= now
            progressAt = wokeInWindow ? sample.busySince : midpoint(previousTick, now)
            guard let stall = active else { return .none }
            active = nil
            let blocked = Duration.nanoseconds(max(endedAt - stall.startedAt, 0))
            return .ended(stallID: stall.id, blocked: blocked, threshold: stall.threshold)
        }
        if sample.idleSince != 0 {
            // Idle and no progress: waiting for work is not a stall.
            return .none
        }
        let blockedNs = now - progressAt
        if var stall = active {
            guard now >= stall.nextReportAt else { return .none }
            stall.backoff = min(stall.backoff * 2, Self.maximumBackoff)
            stall.nextReportAt = now + stall.backoff
            active = stall
            return .continuing(stallID: stall.id, blocked: .nanoseconds(blockedNs), threshold: stall.threshold)
        }
        guard Duration.nanoseconds(blockedNs) >= threshold else { return .none }
        let stall = ActiveStall(
            id: nextStallID(),
            startedAt: progressAt,
            threshold: threshold,
            nextReportAt: now + Self.initialBackoff,
            backoff: Self.initialBackoff
        )
        active = stall
        return .began(stallID: stall.id, blocked: .nanoseconds(blockedNs), threshold: threshold)
    }

    /// Called when the watchdog itself woke far too late (the process was stopped, the
    /// machine paused): `missed` nanoseconds passed while nobody ran, and they are not the
    /// loop's fault. They are cut out of this loop's timeline: its last progress, and the
    /// start and next report of a stall in progress, move `missed` later. A stall that had
    /// not begun yet keeps only the time it was really blocked; a stall already reported
    /// goes on, and its final duration leaves the missed time out.
    ///
    /// Call it before `observe` for the late tick, and pass `observe` a `previousTick`
    /// moved by the same amount, so that progress made just after the pause (the loop
    /// thread may run before the watchdog thread) is placed after it too.
    mutating func forgiveMissedTime(_ missed: Int64) {
        guard missed > 0 else { return }
        progressAt += missed
        if var stall = active {
            stall.startedAt += missed
            stall.nextReportAt += missed
            active = stall
        }
    }

    private func midpoint(_ a: Int64, _ b: Int64) -> Int64 {
        a + (b - a) / 2
    }
}
