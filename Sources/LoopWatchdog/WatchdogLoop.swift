import CLoopWatchdog
import Logging

/// The body of the watchdog thread: one tick per interval samples every loop, feeds its
/// StallDetector and, when a stall begins or goes on, captures the stack (of every busy
/// worker, for a pool) at once and hands the event to the reporter; then it lets each
/// loop's prober, if it has one (pools), send its next probe. Owned by the watchdog thread
/// alone.
final class WatchdogLoop: @unchecked Sendable {
    private unowned let watchdog: Watchdog
    private let capturer: StackCapturer
    private var tracked: [UInt64: Tracked] = [:]
    private var lastTick: Int64 = 0
    private var lastInterval: Int64 = 0
    private var nextStallID: UInt64 = 1
    /// Most workers of one pool captured per report, to bound the watchdog's time.
    private static let maximumWorkersCaptured = 64

    /// What the watchdog keeps about one loop between ticks.
    private struct Tracked {
        var record: LoopRecord
        var detector: StallDetector
        /// For a probed loop that is well overdue: the scheduler statistics of its thread (of
        /// each worker, for a pool) when it became so, to tell threads starved of CPU from
        /// blocked ones.
        var schedulerBaseline: [Int32: SchedulerSample]?
    }

    init(watchdog: Watchdog, capturer: StackCapturer) {
        self.watchdog = watchdog
        self.capturer = capturer
    }

    func run() {
        while !watchdog.isStopping {
            let interval = tick(now: lwd_monotonic_ns())
            watchdog.sleep(until: lastTick + interval)
        }
    }

    /// One pass over every loop at time `now`. Returns the interval until the next tick.
    func tick(now: Int64) -> Int64 {
        let records = watchdog.liveRecords()
        let globalThreshold = watchdog.threshold
        let overslept = lastTick != 0 && now - (lastTick + lastInterval) > globalThreshold.clampedNanoseconds
        if overslept {
            watchdog.logger.info(
                "LoopWatchdog woke \(Duration.nanoseconds(now - lastTick - lastInterval).humanReadable) late (process stopped or machine paused?); no loop is blamed for that time"
            )
        }
        var liveIDs = Set<UInt64>()
        var smallestOverride: Int64?
        for record in records {
            liveIDs.insert(record.id)
            let override = record.thresholdOverride.load(ordering: .relaxed)
            if override > 0 { smallestOverride = min(smallestOverride ?? override, override) }
            let threshold = override > 0 ? Duration.nanoseconds(override) : globalThreshold
            observe(record, now: now, threshold: threshold, overslept: overslept)
            record.prober?.probe(record, now: now)
        }
        for (id, entry) in tracked where !liveIDs.contains(id) {
            // Unregistered or exited: a stall in progress ends here, and is said to.
            if let stall = entry.detector.active {
                report(
                    .ended, stallID: stall.id, record: entry.record, threshold: stall.threshold,
                    blocked: .nanoseconds(max(now - stall.startedAt, 0)), capture: .none, addresses: [])
            }
            tracked[id] = nil
        }
        lastTick = now
        lastInterval = watchdog.currentInterval(smallestLoopThreshold: smallestOverride)
        return lastInterval
    }

    private func observe(_ record: LoopRecord, now: Int64, threshold: Duration, overslept: Bool) {
        var sample = record.sample()
        guard var entry = tracked[record.id] else {
            tracked[record.id] = Tracked(record: record, detector: StallDetector(sample: sample, now: now))
            return
        }
        if overslept { entry.detector.forgiveMissedTime(now: now) }
        checkCPUStarvation(&entry, sample: &sample, now: now)
        let decision = entry.detector.observe(
            sample, now: now, previousTick: lastTick, threshold: threshold,
            nextStallID: { defer { nextStallID += 1 }; return nextStallID })
        tracked[record.id] = entry
        switch decision {
        case .none:
            break
        case .began(let id, let blocked, let threshold):
            reportWithStacks(.began, stallID: id, record: record, threshold: threshold, blocked: blocked)
        case .continuing(let id, let blocked, let threshold):
            reportWithStacks(.continuing, stallID: id, record: record, threshold: threshold, blocked: blocked)
        case .ended(let id, let blocked, let threshold):
            report(.ended, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: .none, addresses: [])
        }
    }

    /// For a probed loop that has been overdue for more than two intervals without a stall
    /// reported yet: reads the scheduler statistics of its thread (of each worker, for a
    /// pool), once to start and then at each tick, and marks the sample when one of those
    /// threads spent the time since the start mostly waiting for a CPU: the probe is late
    /// because the machine is overloaded (a runnable thread got no CPU), not because code
    /// blocks. The clock then starts again. Costs nothing while the loop answers its probes.
    private func checkCPUStarvation(_ entry: inout Tracked, sample: inout LoopSample, now: Int64) {
        let overdue = sample.isProbed && sample.probeDueAt != .max
            && now - sample.probeDueAt > 2 * max(lastInterval, 1_000_000)
            && sample.progress == entry.detector.lastProgress
        guard overdue, entry.detector.active == nil else {
            entry.schedulerBaseline = nil
            return
        }
        let threads = entry.record.workers.map { $0.candidates().map(\.threadID) } ?? [entry.record.threadID]
        var current: [Int32: SchedulerSample] = [:]
        for tid in threads where tid != 0 {
            current[tid] = SchedulerSample.read(threadID: tid, now: now)
        }
        guard let baseline = entry.schedulerBaseline else {
            entry.schedulerBaseline = current
            return
        }
        // Judged on the whole time since the baseline (at least three intervals), so that a
        // thread that runs in short slices on a busy machine is not mistaken for a starved one.
        guard let start = baseline.values.first?.at, now - start >= 3 * max(lastInterval, 1_000_000) else { return }
        let starved = current.contains { tid, sample in
            baseline[tid].map { sample.waitedForCPU(since: $0) } ?? false
        }
        if starved {
            sample.waitedForCPU = true
            entry.schedulerBaseline = current
        }
    }

    /// Captures the loop's thread, or every worker of a pool, now, and reports.
    private func reportWithStacks(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration, blocked: Duration
    ) {
        guard let workers = record.workers else {
            let capture = capturer.capture(threadID: record.threadID, pidfd: record.pidfd, stackHigh: record.stackHigh)
            report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
            return
        }
        let threads = workers.candidates().prefix(Self.maximumWorkersCaptured).map { worker in
            let capture = capturer.capture(threadID: worker.threadID, pidfd: -1, stackHigh: worker.stackHigh)
            return PendingThread(
                threadID: worker.threadID, name: worker.name, capture: capture.outcome, addresses: capture.addresses)
        }
        report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
               capture: .none, addresses: [], threads: Array(threads))
    }

    private func report(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration,
        blocked: Duration, capture: CaptureOutcome, addresses: [UInt], threads: [PendingThread] = []
    ) {
        let event = StallEvent(
            kind: kind, stallID: stallID, loopName: record.name, threadID: record.threadID,
            threshold: threshold, blocked: blocked, capture: capture)
        watchdog.reporter.report(PendingEvent(event: event, addresses: addresses, threads: threads))
    }
}
