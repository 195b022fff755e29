import CLoopWatchdog
import Logging

/// The body of the watchdog thread: one tick per interval samples every loop, feeds its
/// StallDetector and, when a stall begins or goes on, captures the stack at once and hands
/// the event to the reporter. Owned by the watchdog thread alone.
///
/// A tick that reports nothing allocates nothing and takes no lock per loop: the loop list
/// is reread (under the watchdog's lock) only after a registration or when a loop retired.
final class WatchdogLoop: @unchecked Sendable {
    // Strong: a started watchdog lives until `stop()`, even when its owner drops it.
    private let watchdog: Watchdog
    private let capturer: StackCapturer
    /// The loops being watched and their detectors (nil until the loop's first sample).
    private var tracked: [(record: LoopRecord, detector: StallDetector?)] = []
    /// `watchdog.registrationCount` when `tracked` was last rebuilt.
    private var seenRegistrations: UInt64 = 0
    private var needsRebuild = true
    /// After a tick: every loop was idle, with no stall in progress and nothing left to do.
    private var everyLoopIdle = false
    private var lastTick: Int64 = 0
    private var lastInterval: Int64 = 0
    private var nextStallID: UInt64 = 1

    init(watchdog: Watchdog, capturer: StackCapturer) {
        self.watchdog = watchdog
        self.capturer = capturer
    }

    func run() {
        while !watchdog.isStopping {
            let interval = tick(now: lwd_monotonic_ns())
            if everyLoopIdle && watchdog.idleGate.park(ifStillIdle: { stillIdle() }) {
                // Nothing can stall: sleep long; the first loop that goes busy wakes us.
                lastInterval = IdleGate.parkedIntervalNanoseconds
                watchdog.sleep(until: lastTick + lastInterval)
                watchdog.idleGate.unpark()
            } else {
                watchdog.sleep(until: lastTick + interval)
            }
        }
    }

    /// Every tracked loop is still marked idle (sequentially consistent reads: IdleGate).
    private func stillIdle() -> Bool {
        tracked.allSatisfy { $0.record.idleSince.load(ordering: .sequentiallyConsistent) != 0 }
    }

    /// One pass over every loop at time `now`. Returns the interval until the next tick.
    func tick(now: Int64) -> Int64 {
        let registrations = watchdog.registrationCount
        if needsRebuild || registrations != seenRegistrations {
            rebuild(now: now)
            seenRegistrations = registrations
            needsRebuild = false
        }
        let globalThreshold = watchdog.threshold
        let overslept = lastTick != 0 && now - (lastTick + lastInterval) > globalThreshold.clampedNanoseconds
        if overslept {
            watchdog.logger.info(
                "LoopWatchdog woke \(Duration.nanoseconds(now - lastTick - lastInterval).humanReadable) late (process stopped or machine paused?); no loop is blamed for that time"
            )
        }
        var smallestOverride: Int64?
        var allIdle = true
        var index = 0
        while index < tracked.count {
            let record = tracked[index].record
            if record.retired.load(ordering: .relaxed) {
                retire(at: index, now: now)
                needsRebuild = true  // lets the watchdog drop the record (and its pidfd)
                allIdle = false
                continue
            }
            let override = record.thresholdOverride.load(ordering: .relaxed)
            if override > 0 { smallestOverride = min(smallestOverride ?? override, override) }
            let threshold = override > 0 ? Duration.nanoseconds(override) : globalThreshold
            let idle = observe(at: index, now: now, threshold: threshold, overslept: overslept)
            allIdle = allIdle && idle
            index += 1
        }
        everyLoopIdle = allIdle && !needsRebuild
        lastTick = now
        lastInterval = watchdog.currentInterval(smallestLoopThreshold: smallestOverride)
        return lastInterval
    }

    /// Rereads the registered loops, keeping the detectors of loops already tracked.
    private func rebuild(now: Int64) {
        let records = watchdog.liveRecords()
        let live = Set(records.map(\.id))
        var index = 0
        while index < tracked.count {
            if live.contains(tracked[index].record.id) { index += 1 } else { retire(at: index, now: now) }
        }
        let known = Set(tracked.map(\.record.id))
        for record in records where !known.contains(record.id) {
            tracked.append((record, nil))
        }
    }

    /// Stops tracking the loop at `index`: unregistered or exited. A stall in progress ends
    /// here, and is said to.
    private func retire(at index: Int, now: Int64) {
        let entry = tracked.remove(at: index)
        if let stall = entry.detector?.active {
            report(
                .ended, stallID: stall.id, record: entry.record, threshold: stall.threshold,
                blocked: .nanoseconds(max(now - stall.startedAt, 0)), capture: .none, addresses: [])
        }
    }

    /// Samples the loop at `index`, reports what its detector decides, and returns true when
    /// the loop is idle with no stall in progress.
    private func observe(at index: Int, now: Int64, threshold: Duration, overslept: Bool) -> Bool {
        let record = tracked[index].record
        let sample = record.sample()
        guard var detector = tracked[index].detector else {
            tracked[index].detector = StallDetector(sample: sample, now: now)
            return false
        }
        if overslept { detector.forgiveMissedTime(now: now) }
        let decision = detector.observe(
            sample, now: now, previousTick: lastTick, threshold: threshold,
            nextStallID: { defer { nextStallID += 1 }; return nextStallID })
        tracked[index].detector = detector
        switch decision {
        case .none:
            break
        case .began(let id, let blocked, let threshold):
            let capture = capturer.capture(
                threadID: record.threadID, pidfd: record.pidfd, stackHigh: record.stackHigh, procFiles: record.procFiles)
            report(.began, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
        case .continuing(let id, let blocked, let threshold):
            let capture = capturer.capture(
                threadID: record.threadID, pidfd: record.pidfd, stackHigh: record.stackHigh, procFiles: record.procFiles)
            report(.continuing, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
        case .ended(let id, let blocked, let threshold):
            report(.ended, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: .none, addresses: [])
        }
        return sample.idleSince != 0 && detector.active == nil
    }

    private func report(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration,
        blocked: Duration, capture: CaptureOutcome, addresses: [UInt]
    ) {
        let event = StallEvent(
            kind: kind, stallID: stallID, loopName: record.name, threadID: record.threadID,
            threshold: threshold, blocked: blocked, capture: capture)
        watchdog.reporter.report(PendingEvent(event: event, addresses: addresses))
    }
}
