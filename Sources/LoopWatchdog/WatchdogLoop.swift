import CLoopWatchdog
import Logging

/// The body of the watchdog thread: one tick per interval samples every loop, feeds its
/// StallDetector and, when a stall begins or goes on, captures the stack (of every busy
/// worker, for a pool) at once and hands the event to the reporter; then it lets each
/// loop's prober, if it has one (pools), send its next probe. Owned by the watchdog thread
/// alone.
///
/// A tick that reports nothing allocates nothing and takes no lock per loop: the loop list
/// is reread (under the watchdog's lock) only after a registration or when a loop retired.
///
/// Two things are never blamed on a loop:
/// - time during which the watchdog itself did not run (the process was stopped, the
///   machine paused): when a tick comes later than the smallest threshold in force, the
///   missed time is cut out of every loop's timeline (`StallDetector.forgiveMissedTime`)
///   and one info line says so. Lateness the watchdog thread spent running or waiting
///   for a CPU (its schedstat, where the kernel has it) is not missed time: a watchdog
///   starved of CPU by busy threads or other processes must still report the stalls it
///   sees, late, rather than forgive them;
/// - stalls while a debugger or tracer is attached, under `TracedPolicy.suppress`: such a
///   stall is not captured (no signal goes into a traced process) and none of its events
///   is reported; one info line says so when suppression starts.
final class WatchdogLoop: @unchecked Sendable {
    // Strong: a started watchdog lives until `stop()`, even when its owner drops it.
    private let watchdog: Watchdog
    private let capturer: StackCapturer
    /// The loops being watched and their detectors (nil until the loop's first sample).
    private var tracked: [Tracked] = []
    /// Most workers of one pool captured per report, to bound the watchdog's time.
    private static let maximumWorkersCaptured = 64

    /// What the watchdog keeps about one loop between ticks.
    private struct Tracked {
        var record: LoopRecord
        /// Nil until the loop's first sample.
        var detector: StallDetector?
        /// For a probed loop that is well overdue: the scheduler statistics of its thread (of
        /// each worker, for a pool) when it became so, to tell threads starved of CPU from
        /// blocked ones.
        var schedulerBaseline: [Int32: SchedulerSample]?
    }
    /// `watchdog.registrationCount` when `tracked` was last rebuilt.
    private var seenRegistrations: UInt64 = 0
    private var needsRebuild = true
    /// After a tick: every loop was idle, with no stall in progress and nothing left to do.
    private var everyLoopIdle = false
    private var lastTick: Int64 = 0
    private var lastInterval: Int64 = 0
    /// The watchdog thread's running + runnable time at the last tick, when known.
    private var lastScheduled: Int64?
    /// Time spent since the last tick waiting for captures (the target's signal handler),
    /// each wait counted up to `captureWaitBound`: the watchdog was busy, not stopped.
    private var captureWaits: Int64 = 0
    /// The most of one capture's wait that counts as busy: its signal timeout, twice. A
    /// longer wait means the process was stopped during it.
    static let captureWaitBound = 2 * StackCapturer.signalTimeoutNanoseconds
    private var nextStallID: UInt64 = 1
    private var tracer = TracerCheck()
    /// Stalls whose `began` was suppressed: their `continuing` and `ended` are too.
    private var suppressed: Set<UInt64> = []
    /// The tracer whose suppression was announced, 0 when none.
    private var announcedTracer: Int32 = 0
    private var announcedHandlerReplaced = false

    init(watchdog: Watchdog, capturer: StackCapturer) {
        self.watchdog = watchdog
        self.capturer = capturer
    }

    func run() {
        let schedstat = lwd_open_thread_schedstat()
        defer { lwd_close_fd(schedstat) }
        while !watchdog.isStopping {
            let now = lwd_monotonic_ns()
            let scheduled = schedstat >= 0 ? lwd_thread_scheduled_ns(schedstat) : -1
            let interval = tick(now: now, scheduled: scheduled >= 0 ? scheduled : nil)
            if everyLoopIdle && watchdog.idleGate.park(ifStillIdle: { stillIdle() }) {
                // Nothing can stall: sleep long; the first loop that goes busy wakes us.
                lastInterval = IdleGate.parkedIntervalNanoseconds
                watchdog.sleep(until: lastTick + lastInterval)
                watchdog.idleGate.unpark()
            } else {
                watchdog.sleep(until: lastTick + interval)
            }
        }
        // One last look, so that a stall that ended just before `stop()` is reported ended.
        _ = tick(now: lwd_monotonic_ns(), scheduled: nil)
    }

    /// Every tracked loop is still marked idle and none retired, and no loop registered
    /// since the last rebuild (such a loop is not tracked yet and may be busy). All reads are
    /// sequentially consistent, pairing with the loops' and registrations' wake-ups (see
    /// IdleGate): either the watchdog sees the change and does not park, or the other side
    /// sees it parked and wakes it.
    private func stillIdle() -> Bool {
        guard watchdog.registrationCount == seenRegistrations else { return false }
        return tracked.allSatisfy {
            $0.record.idleSince.load(ordering: .sequentiallyConsistent) != 0
                && !$0.record.retired.load(ordering: .sequentiallyConsistent)
        }
    }

    /// One pass over every loop at time `now`. Returns the interval until the next tick.
    /// `scheduled` is the watchdog thread's running + runnable time (schedstat) read with
    /// `now`, or nil when unknown (then all lateness counts as missed).
    func tick(now: Int64, scheduled: Int64? = nil) -> Int64 {
        let registrations = watchdog.registrationCount
        if needsRebuild || registrations != seenRegistrations {
            rebuild(now: now)
            seenRegistrations = registrations
            needsRebuild = false
        }
        let globalThreshold = watchdog.threshold
        var smallestOverride: Int64?
        for entry in tracked {
            let override = entry.record.thresholdOverride.load(ordering: .relaxed)
            if override > 0 { smallestOverride = min(smallestOverride ?? override, override) }
        }
        let missed = missedTime(
            now: now, scheduled: scheduled,
            smallestThreshold: min(globalThreshold.clampedNanoseconds, smallestOverride ?? .max))
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
            let threshold = override > 0 ? Duration.nanoseconds(override) : globalThreshold
            let idle = observe(at: index, now: now, threshold: threshold, missed: missed)
            allIdle = allIdle && idle
            record.prober?.probe(record, now: now)
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
            tracked.append(Tracked(record: record))
        }
    }

    /// Stops tracking the loop at `index`: unregistered or exited. A stall in progress ends
    /// here, and is said to (unless it was suppressed while traced).
    private func retire(at index: Int, now: Int64) {
        let entry = tracked.remove(at: index)
        if let stall = entry.detector?.active, suppressed.remove(stall.id) == nil {
            report(
                .ended, stallID: stall.id, record: entry.record, threshold: stall.threshold,
                blocked: .nanoseconds(max(now - stall.startedAt, 0)), capture: .none, addresses: [])
        }
    }

    /// How long past its due time this tick came, less the time the watchdog thread ran,
    /// waited for a CPU, or waited for a capture since the last tick, when that is more
    /// than the smallest threshold in force (else 0): nothing in the process ran then.
    private func missedTime(now: Int64, scheduled: Int64?, smallestThreshold: Int64) -> Int64 {
        let previousScheduled = lastScheduled
        lastScheduled = scheduled
        let waited = captureWaits
        captureWaits = 0
        guard lastTick != 0 else { return 0 }
        var late = now - (lastTick + lastInterval) - waited
        if let scheduled, let previousScheduled {
            late -= max(scheduled - previousScheduled, 0)
        }
        guard late > smallestThreshold else { return 0 }
        watchdog.logger.info(
            "LoopWatchdog woke \(Duration.nanoseconds(late).humanReadable) late (process stopped or machine paused?); no loop is blamed for that time"
        )
        return late
    }

    /// Samples the loop at `index`, reports what its detector decides, and returns true when
    /// the loop is idle with no stall in progress.
    private func observe(at index: Int, now: Int64, threshold: Duration, missed: Int64) -> Bool {
        let record = tracked[index].record
        var sample = record.sample()
        guard var detector = tracked[index].detector else {
            tracked[index].detector = StallDetector(sample: sample, now: now)
            return false
        }
        checkCPUStarvation(at: index, detector: detector, sample: &sample, now: now)
        detector.forgiveMissedTime(missed)
        let decision = detector.observe(
            sample, now: now, previousTick: lastTick + missed, threshold: threshold,
            nextStallID: { defer { nextStallID += 1 }; return nextStallID })
        tracked[index].detector = detector
        switch decision {
        case .none:
            break
        case .began(let id, let blocked, let threshold):
            if suppressedWhileTraced(now: now) {
                suppressed.insert(id)
                return false
            }
            reportWithStacks(.began, stallID: id, record: record, threshold: threshold, blocked: blocked)
        case .continuing(let id, let blocked, let threshold):
            // A tracer that attached since `began` gets no signal and no report either.
            guard !suppressed.contains(id), !suppressedWhileTraced(now: now) else { return false }
            reportWithStacks(.continuing, stallID: id, record: record, threshold: threshold, blocked: blocked)
        case .ended(let id, let blocked, let threshold):
            guard suppressed.remove(id) == nil else { return sample.idleSince != 0 }
            report(.ended, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: .none, addresses: [])
        }
        return sample.idleSince != 0 && detector.active == nil
    }

    /// For a probed loop that has been overdue for more than two intervals without a stall
    /// reported yet: reads the scheduler statistics of its thread (of each worker, for a
    /// pool), once to start and then at each tick, and marks the sample when one of those
    /// threads spent the time since the start mostly waiting for a CPU: the probe is late
    /// because the machine is overloaded (a runnable thread got no CPU), not because code
    /// blocks. The clock then starts again. Costs nothing while the loop answers its probes.
    private func checkCPUStarvation(at index: Int, detector: StallDetector, sample: inout LoopSample, now: Int64) {
        let record = tracked[index].record
        let overdue = sample.isProbed && sample.probeDueAt != .max
            && now - sample.probeDueAt > 2 * max(lastInterval, 1_000_000)
            && sample.progress == detector.lastProgress
        guard overdue, detector.active == nil else {
            tracked[index].schedulerBaseline = nil
            return
        }
        let threads = record.workers.map { $0.candidates().map(\.threadID) } ?? [record.threadID]
        var current: [Int32: SchedulerSample] = [:]
        for tid in threads where tid != 0 {
            current[tid] = SchedulerSample.read(threadID: tid, now: now)
        }
        guard let baseline = tracked[index].schedulerBaseline else {
            tracked[index].schedulerBaseline = current
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
            tracked[index].schedulerBaseline = current
        }
    }

    /// Captures the loop's thread, or every worker of a pool, now, and reports.
    private func reportWithStacks(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration, blocked: Duration
    ) {
        guard let workers = record.workers else {
            let capture = capture(
                threadID: record.threadID, pidfd: record.pidfd, stackHigh: record.stackHigh, procFiles: record.procFiles)
            report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
            return
        }
        let threads = workers.candidates().prefix(Self.maximumWorkersCaptured).map { worker in
            let capture = capture(threadID: worker.threadID, pidfd: -1, stackHigh: worker.stackHigh, procFiles: .none)
            return PendingThread(
                threadID: worker.threadID, name: worker.name, capture: capture.outcome, addresses: capture.addresses)
        }
        report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
               capture: .none, addresses: [], threads: Array(threads))
    }

    /// Captures one thread, counting the wait as busy time of the watchdog (see missedTime).
    private func capture(
        threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles
    ) -> StackCapturer.Capture {
        let start = lwd_monotonic_ns()
        let capture = capturer.capture(
            threadID: threadID, pidfd: pidfd, stackHigh: stackHigh, procFiles: procFiles)
        captureWaits += min(max(lwd_monotonic_ns() - start, 0), Self.captureWaitBound)
        if capture.outcome == .unavailable("sigprof-handler-replaced") && !announcedHandlerReplaced {
            announcedHandlerReplaced = true
            watchdog.logger.warning(
                "LoopWatchdog's SIGPROF handler was replaced by another one (a profiler?); no signal is sent any more, stacks are taken only from threads parked in system calls"
            )
        }
        return capture
    }

    /// True when a report due now must be suppressed because a tracer is attached and the
    /// policy says so. Announces the suppression once per tracer.
    private func suppressedWhileTraced(now: Int64) -> Bool {
        guard watchdog.settings.whenTraced == .suppress else { return false }
        let tracerPID = tracer.tracerPID(now: now)
        guard tracerPID > 0 else {
            announcedTracer = 0
            return false
        }
        if announcedTracer != tracerPID {
            announcedTracer = tracerPID
            watchdog.logger.info(
                "LoopWatchdog: a debugger or tracer (pid \(tracerPID)) is attached; stalls are not reported while it is (LOOP_WATCHDOG_WHEN_TRACED=suppress)"
            )
        }
        return true
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
