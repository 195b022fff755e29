/// Decides, from successive samples of one loop, when a stall begins, goes on and ends.
///
/// A pure state machine: every input, including the current time, is a parameter, so tests
/// drive it with manual time. Times are monotonic nanoseconds. Owned by the watchdog thread.
///
/// Progress is seen only at ticks, so the start of a stall is known to lie between the tick
/// that first saw the final counter value and the tick before it; the detector takes the
/// middle of that window, or the loop's own busy timestamp when it woke inside it. A stall
/// that ends with the loop going idle ends exactly at the loop's idle timestamp; a pool job
/// flagged as stalled ends exactly when it stored its end (``LoopSample/jobEndedAt``).
///
/// A probed loop (``LoopSample/isProbed``) is never idle: it runs a probe that records when
/// it ran and when the next one is due. It is late once the due time has passed without a
/// new run; the stall began somewhere between the last run and the due time (the detector
/// takes the middle, or the loop's ``LoopSample/busySince`` when its prober measured it in
/// that window) and ends exactly when the late probe runs (the record keeps the last
/// two run times, since the next probe may run before the watchdog looks). When the loop
/// measures its own ticks and one tick began inside that window and still ran when the late
/// probe ran, the stall began with that tick: the loop never waited in between. A probed
/// loop that is late because its thread was waiting for a CPU (``LoopSample/waitedForCPU``)
/// is not blamed for that time.
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
        /// For a probed loop: the window in which the stall began, from the last probe run
        /// to the time the next probe was due.
        var probeWindow: ClosedRange<Int64>?
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
        progressAt = sample.idleSince != 0 || sample.busySince <= 0 ? now : min(sample.busySince, now)
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
        if sample.isProbed {
            return observeProbed(sample, now: now, threshold: threshold, nextStallID: nextStallID)
        }
        if sample.progress != lastProgress {
            lastProgress = sample.progress
            let endedAt: Int64
            if let stall = active, sample.jobEndedAt >= stall.startedAt, sample.jobEndedAt <= now {
                // A pool job flagged as stalled stored when it ended.
                endedAt = sample.jobEndedAt
            } else if sample.idleSince != 0, sample.idleSince > previousTick, sample.idleSince <= now {
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
        return blocked(since: progressAt, now: now, threshold: threshold, probeWindow: nil, nextStallID: nextStallID)
    }

    /// A probed loop: late once its probe is overdue; ends when the late probe runs.
    private mutating func observeProbed(
        _ sample: LoopSample,
        now: Int64,
        threshold: Duration,
        nextStallID: () -> UInt64
    ) -> Decision {
        if sample.progress != lastProgress {
            let runs = sample.progress &- lastProgress
            lastProgress = sample.progress
            let latestRun = sample.probeRanAt > 0 ? min(sample.probeRanAt, now) : now
            progressAt = max(progressAt, latestRun)
            guard let stall = active else { return .none }
            active = nil
            // The stall ended with the first probe run since the last tick: when a second one
            // ran too, that is the one before the latest (with three or more, the estimate
            // is late by the runs it cannot see).
            let ranAt = runs >= 2 && sample.previousProbeRanAt > 0
                ? min(sample.previousProbeRanAt, latestRun) : latestRun
            let startedAt = Self.tickStart(covering: stall, endedAt: ranAt, ticks: sample.probeTicks) ?? stall.startedAt
            let blocked = Duration.nanoseconds(max(ranAt - startedAt, 0))
            return .ended(stallID: stall.id, blocked: blocked, threshold: stall.threshold)
        }
        if let stall = active {
            return blocked(
                since: stall.startedAt, now: now, threshold: threshold, probeWindow: stall.probeWindow,
                nextStallID: nextStallID)
        }
        // Not overdue (or no probe outstanding): the loop is idle or busy, and answering in time.
        guard let due = sample.probe.dueAt, now > due else { return .none }
        if sample.waitedForCPU {
            // Late because its thread got no CPU (the machine is overloaded), not because
            // its code blocks: no stall is counted from before now.
            progressAt = now
            return .none
        }
        let lastRun = min(max(sample.probeRanAt, progressAt), due)
        // The loop's own start when its prober measured it inside the window (a loop found
        // on a CPU after waiting), else the middle of the window.
        let measured = sample.busySince > lastRun && sample.busySince <= due
        let since = measured ? sample.busySince : max(midpoint(lastRun, due), progressAt)
        return blocked(
            since: since, now: now, threshold: threshold, probeWindow: lastRun...due, nextStallID: nextStallID)
    }

    /// The start of the measured tick that covers `stall`, if there is one: the tick in which
    /// the late probe ran at `endedAt`, if it began inside the stall's probe window.
    private static func tickStart(covering stall: ActiveStall, endedAt: Int64, ticks: [ClosedRange<Int64>]) -> Int64? {
        guard let window = stall.probeWindow, let tick = ticks.first(where: { $0.contains(endedAt) }) else {
            return nil
        }
        return window.contains(tick.lowerBound) ? tick.lowerBound : nil
    }

    /// No progress since `since`: begins a stall once `threshold` is crossed, then reports
    /// it on the backoff.
    private mutating func blocked(
        since: Int64,
        now: Int64,
        threshold: Duration,
        probeWindow: ClosedRange<Int64>?,
        nextStallID: () -> UInt64
    ) -> Decision {
        let blockedNs = now - since
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
            startedAt: since,
            probeWindow: probeWindow,
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
    /// The stall that just began was no stall after all (its thread turned out to be
    /// waiting for work): forgets it, and counts progress from `now`.
    mutating func dismissStall(now: Int64) {
        active = nil
        progressAt = now
    }

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
