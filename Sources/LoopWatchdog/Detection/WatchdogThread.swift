import CLoopWatchdog
import Logging

/// The body of the watchdog thread ("LoopWatchdog"): one tick per interval samples every
/// loop of the registry, feeds its ``StallDetector`` and, when a stall begins or goes on,
/// captures the stack (of every busy worker, for a pool) at once and hands the event to the
/// reporter; then it lets each pool's prober send its next probe. Owned by that thread alone.
///
/// A tick that reports nothing allocates nothing and takes no lock per loop: the loop list
/// is reread (under the registry's lock) only after a registration or when a loop retired.
///
/// Never blamed on a loop: time during which the watchdog itself did not run
/// (``PauseAccounting``, cut out of every loop's timeline with one info line), a probe late
/// because its thread got no CPU (``CPUStarvationCheck``), and stalls while a debugger or
/// tracer is attached under `TracedPolicy.suppress` (``TracerSuppression``: not captured, not
/// reported, one info line).
final class WatchdogThread: @unchecked Sendable {
    // Strong references: a started watchdog thread keeps what it watches and reports to alive
    // until `stop()`, even when the `Watchdog` is dropped.
    private let registry: LoopRegistry
    private let reporter: Reporter
    private let threshold: LiveThreshold
    private let sleeper: IntervalSleeper
    private let idleGate: IdleGate
    private let logger: Logger
    private let capturer: StackCapturer
    private let sampleInterval: SampleInterval
    private let maxSamples: Int
    private let processAccounting = ProcessAccountingReader()
    /// The loops being watched and their detectors (nil until the loop's first sample).
    private var tracked: [Tracked] = []
    /// Most workers of one pool captured per report, to bound the watchdog's time.
    private static let maximumWorkersCaptured = 64

    /// What the watchdog keeps about one loop between ticks.
    private struct Tracked {
        var record: LoopRecord
        /// Nil until the loop's first sample.
        var detector: StallDetector?
        /// For a probed loop that is well overdue: whether its threads are starved of CPU.
        var starvation = CPUStarvationCheck()
        /// The samples of the stall in progress on a one-thread loop.
        var sampling: StallSampling?
    }
    /// `registry.registrationCount` when `tracked` was last rebuilt.
    private var seenRegistrations: UInt64 = 0
    private var needsRebuild = true
    /// After a tick: every loop was idle, with no stall in progress and nothing left to do.
    private var everyLoopIdle = false
    /// After a tick: every loop was waiting for work (idle, or its prober found it so), with
    /// no stall in progress; the next tick comes after the quiet interval.
    private var lastTickQuiet = false
    /// After a tick: quiet, and nothing in any loop ran since the tick before.
    private var everyLoopResting = false
    /// Whether a job watch's workers are among the loops (their jobs wake a resting watchdog).
    private var tracksPoolJobs = false
    /// When a job or a loop woke the resting watchdog early: the next tick dates what began
    /// from just before then, not from the tick before the rest.
    private var restWokenAt: Int64?
    /// The timer slack last set on the watchdog thread (ns); 0 before the first.
    private var timerSlack: Int64 = 0
    private var lastTick: Int64 = 0
    private var lastInterval: Int64 = 0
    private var pauses = PauseAccounting(captureWaitBound: 2 * StackCapturer.signalTimeoutNanoseconds)
    private var nextStallID: UInt64 = 1
    private var tracer = TracerCheck()
    private var suppression: TracerSuppression
    private var announcedHandlerReplaced = false
    /// When the last "woke late" line was logged, and the pauses seen since (at most one
    /// such line a minute: under heavy load a 1 ms threshold saw one every 40 ms).
    private var pauseLoggedAt: Int64?
    private var pausesSinceLog = 0
    private var missedSinceLog: Int64 = 0
    static let pauseLogInterval: Int64 = 60_000_000_000

    /// The thread body for the loops in `registry`, reporting to `reporter`.
    init(
        registry: LoopRegistry, reporter: Reporter, threshold: LiveThreshold, sleeper: IntervalSleeper,
        idleGate: IdleGate, logger: Logger, whenTraced: TracedPolicy, capturer: StackCapturer,
        sampleInterval: SampleInterval = .halfThreshold, maxSamples: Int = Settings.default.maxSamples
    ) {
        self.sampleInterval = sampleInterval
        self.maxSamples = maxSamples
        self.registry = registry
        self.reporter = reporter
        self.threshold = threshold
        self.sleeper = sleeper
        self.idleGate = idleGate
        self.logger = logger
        self.capturer = capturer
        self.suppression = TracerSuppression(policy: whenTraced)
    }

    func run() {
        for problem in StackCapturer.capabilityProblems() {
            say(problem.warning ? .warning : .info, problem.text)
        }
        let schedstat = lwd_open_thread_schedstat()
        defer { lwd_close_fd(schedstat) }
        while !sleeper.isStopRequested {
            let now = lwd_monotonic_ns()
            // After a quiet tick the schedstat read (a /proc file, the dearest part of a quiet
            // tick) is skipped: with every loop waiting for work, a pause blames no loop.
            let scheduled = schedstat >= 0 && !lastTickQuiet ? lwd_thread_scheduled_ns(schedstat) : -1
            let interval = tick(now: now, scheduled: scheduled >= 0 ? scheduled : nil)
            allowTimerSlack(for: interval)
            if everyLoopIdle && idleGate.park(ifStillIdle: { stillIdle() }) {
                // Nothing can stall: sleep long; the first loop that goes busy wakes us.
                lastInterval = IdleGate.parkedIntervalNanoseconds
                sleeper.sleep(until: lastTick + lastInterval)
                idleGate.unpark()
            } else if everyLoopResting && idleGate.park(ifStillIdle: { stillIdle(ignoringProbedLoops: true) }) {
                // Nothing ran since the last tick: rest one resting interval. A loop that goes
                // busy and the first pool job to begin wake us; an event loop that wakes is
                // seen at the next tick.
                if tracksPoolJobs { lwd_job_watch_set_resting(1, PoolJobWatch.wakeResting) }
                if sleeper.sleep(until: lastTick + interval) {
                    // Woken by what just began: it began within the last moment.
                    restWokenAt = lwd_monotonic_ns()
                }
                if tracksPoolJobs { lwd_job_watch_set_resting(0, nil) }
                idleGate.unpark()
            } else {
                if everyLoopResting {
                    // A loop went busy as we were about to rest.
                    lastInterval = min(interval, threshold.interval(smallestLoopThreshold: nil))
                }
                sleeper.sleep(until: lastTick + lastInterval)
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
    /// Lets the next sleeps end up to a tenth of `interval` late (at most 1 ms, at least the
    /// kernel's default 50 µs), so that the watchdog's wake-ups can share an interrupt with
    /// other timers: on a virtual machine that takes a fifth off the CPU of an idle tick.
    private func allowTimerSlack(for interval: Int64) {
        let slack = min(max(interval / 10, 50_000), 1_000_000)
        guard slack != timerSlack else { return }
        timerSlack = slack
        _ = lwd_set_current_thread_timer_slack(UInt64(slack))
    }

    /// With `ignoringProbedLoops`, only the loops that mark themselves idle are asked (a
    /// resting watchdog: probed loops and pool workers were found resting by the tick).
    private func stillIdle(ignoringProbedLoops: Bool = false) -> Bool {
        guard registry.registrationCount == seenRegistrations else { return false }
        return tracked.allSatisfy {
            (ignoringProbedLoops && ($0.record.prober != nil || $0.record.poolJob != nil))
                || ($0.record.idleSince.load(ordering: .sequentiallyConsistent) != 0
                    && !$0.record.retired.load(ordering: .sequentiallyConsistent))
        }
    }

    /// One pass over every loop at time `now`. Returns the interval until the next tick.
    /// `scheduled` is the watchdog thread's running + runnable time (schedstat) read with
    /// `now`, or nil when unknown (then all lateness counts as missed).
    func tick(now: Int64, scheduled: Int64? = nil) -> Int64 {
        let registrations = registry.registrationCount
        if needsRebuild || registrations != seenRegistrations {
            rebuild(now: now)
            seenRegistrations = registrations
            needsRebuild = false
        }
        let globalThreshold = threshold.value
        var smallestOverride: Int64?
        for entry in tracked {
            let override = entry.record.thresholdOverride.load(ordering: .relaxed)
            if override > 0 { smallestOverride = min(smallestOverride ?? override, override) }
        }
        let missed = missedTime(
            now: now, scheduled: scheduled,
            smallestThreshold: min(globalThreshold.clampedNanoseconds, smallestOverride ?? .max))
        var allIdle = true
        var allQuiet = true
        var allResting = true
        var index = 0
        while index < tracked.count {
            let record = tracked[index].record
            if record.retired.load(ordering: .relaxed) {
                retire(at: index, now: now)
                needsRebuild = true  // lets the watchdog drop the record (and its pidfd)
                allIdle = false
                allQuiet = false
                allResting = false
                continue
            }
            if lastTickQuiet && missed == 0, let detector = tracked[index].detector, detector.active == nil {
                if let prober = record.prober, record.probeState == .answered {
                    // No probe outstanding since the last quiet tick: nothing to decide until the
                    // prober sends one (the detector sees the answers it recorded meanwhile at
                    // the next full look).
                    let verdict = prober.probe(record, now: now)
                    allIdle = false
                    allQuiet = allQuiet && verdict != .busy
                    allResting = allResting && verdict == .resting
                    index += 1
                    continue
                }
                if record.prober == nil && record.isResting(progress: detector.lastProgress) {
                    // Marked idle and nothing ran since the last quiet tick: nothing to decide.
                    allIdle = allIdle && record.poolJob == nil
                    index += 1
                    continue
                }
            }
            let override = record.thresholdOverride.load(ordering: .relaxed)
            let threshold = override > 0 ? Duration.nanoseconds(override) : globalThreshold
            let seen = observe(at: index, now: now, threshold: threshold, missed: missed)
            allIdle = allIdle && seen.idle
            if let prober = record.prober {
                let verdict = prober.probe(record, now: now)
                let calm = tracked[index].detector?.active == nil
                allQuiet = allQuiet && calm && verdict != .busy
                allResting = allResting && calm && verdict == .resting
            } else {
                allQuiet = allQuiet && seen.quiet
                allResting = allResting && seen.resting
            }
            index += 1
        }
        reporter.deliverRepeatsIfDue()
        restWokenAt = nil
        everyLoopIdle = allIdle && !needsRebuild
        lastTick = now
        let interval = threshold.interval(smallestLoopThreshold: smallestOverride)
        // Every loop waits for work and no stall is in progress: nothing can end, and a stall
        // that begins is seen one quiet interval later at most; when nothing ran at all since
        // the last tick, one resting interval (see `run`).
        lastTickQuiet = allQuiet && !needsRebuild
        everyLoopResting = lastTickQuiet && allResting
        let smallestThreshold = min(globalThreshold.clampedNanoseconds, smallestOverride ?? .max)
        lastInterval = everyLoopResting
            ? ThresholdRule.restingInterval(interval, smallestThreshold: smallestThreshold)
            : lastTickQuiet ? ThresholdRule.quietInterval(interval, smallestThreshold: smallestThreshold) : interval
        return lastInterval
    }

    /// The tick before this one, as the detectors take it: the last tick moved by the time
    /// missed, or, after a rest that something ended by waking the watchdog, a millisecond
    /// before that wake-up (what woke it began then).
    private func previousTick(missed: Int64) -> Int64 {
        guard let woken = restWokenAt else { return lastTick + missed }
        return max(lastTick + missed, woken - 1_000_000)
    }

    /// Rereads the registered loops, keeping the detectors of loops already tracked.
    private func rebuild(now: Int64) {
        let records = registry.liveRecords()
        let live = Set(records.map(\.id))
        var index = 0
        while index < tracked.count {
            if live.contains(tracked[index].record.id) { index += 1 } else { retire(at: index, now: now) }
        }
        let known = Set(tracked.map(\.record.id))
        for record in records where !known.contains(record.id) {
            tracked.append(Tracked(record: record))
        }
        tracksPoolJobs = tracked.contains { $0.record.poolJob != nil }
    }

    /// Stops tracking the loop at `index`: unregistered or exited. A stall in progress ends
    /// here, and is said to (unless it was suppressed while traced).
    private func retire(at index: Int, now: Int64) {
        let entry = tracked.remove(at: index)
        if let stall = entry.detector?.active, suppression.ended(stall.id) == .report {
            report(
                .ended, stallID: stall.id, record: entry.record, threshold: stall.threshold,
                blocked: .nanoseconds(max(now - stall.startedAt, 0)), capture: .none, addresses: [],
                samples: entry.sampling.map { finish($0, record: entry.record, endedAt: now, now: now) })
        }
    }

    /// The time since the last tick during which nothing in the process ran (see
    /// ``PauseAccounting``), announced in one info line when there is any.
    private func missedTime(now: Int64, scheduled: Int64?, smallestThreshold: Int64) -> Int64 {
        let missed = pauses.missedTime(
            now: now, due: lastTick == 0 ? nil : lastTick + lastInterval, scheduled: scheduled,
            smallestThreshold: smallestThreshold)
        if missed > 0 {
            pausesSinceLog += 1
            missedSinceLog += missed
            if let loggedAt = pauseLoggedAt, now - loggedAt < Self.pauseLogInterval { return missed }
            let more = pausesSinceLog > 1
                ? " (\(pausesSinceLog) such pauses, \(Duration.nanoseconds(missedSinceLog).humanReadable) in all, since the last message)" : ""
            say(.info,
                "LoopWatchdog woke \(Duration.nanoseconds(missed).humanReadable) late (process stopped or machine paused?); no loop is blamed for that time\(more)"
            )
            pauseLoggedAt = now
            pausesSinceLog = 0
            missedSinceLog = 0
        }
        return missed
    }

    /// Samples the loop at `index` and reports what its detector decides. Returns `quiet`
    /// when the loop is idle with no stall in progress, `resting` when it also made no
    /// progress since the last tick, and `idle` when it is quiet and one whose going busy
    /// wakes a parked watchdog.
    private func observe(at index: Int, now: Int64, threshold: Duration, missed: Int64) -> (idle: Bool, quiet: Bool, resting: Bool) {
        let record = tracked[index].record
        var sample = record.sample()
        guard var detector = tracked[index].detector else {
            tracked[index].detector = StallDetector(sample: sample, now: now)
            return (false, false, false)
        }
        let unchanged = sample.progress == detector.lastProgress
        checkCPUStarvation(at: index, detector: detector, sample: &sample, now: now)
        detector.forgiveMissedTime(missed)
        let decision = detector.observe(
            sample, now: now, previousTick: previousTick(missed: missed), threshold: threshold,
            nextStallID: { defer { nextStallID += 1 }; return nextStallID })
        tracked[index].detector = detector
        switch decision {
        case .none:
            if detector.active != nil, tracked[index].sampling?.isDue(now: now) == true, let thread = record.thread {
                takeSample(at: index, thread: thread, now: now)
            }
        case .began(let id, let blocked, let threshold):
            var early: StackCapturer.Capture?
            if sample.isProbed, let thread = record.thread {
                // A probed loop is late, but its thread may be parked waiting for work (its
                // probe's timer fired late, the thread got no CPU): no stall.
                let capture = capture(
                    threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles)
                if capture.isWaitingInEpoll {
                    detector.dismissStall(now: now)
                    tracked[index].detector = detector
                    return (false, false, false)
                }
                early = capture
            }
            // The job in progress stores its end time from now on.
            record.poolJob?.flagStalled(sequence: sample.progress)
            guard allowed(suppression.began(id, tracerPID: { tracer.tracerPID(now: now) })) else { return (false, false, false) }
            guard let thread = record.thread else {
                reportWithStacks(.began, stallID: id, record: record, threshold: threshold, blocked: blocked)
                return (false, false, false)
            }
            let capture = early ?? capture(
                threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles)
            startSampling(at: index, thread: thread, capture: capture, stallStart: detector.active?.startedAt ?? now,
                          threshold: threshold, now: now)
            report(.began, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
        case .continuing(let id, let blocked, let threshold):
            // A tracer that attached since `began` gets no signal and no report either.
            guard allowed(suppression.continuing(id, tracerPID: { tracer.tracerPID(now: now) })) else { return (false, false, false) }
            guard let thread = record.thread else {
                reportWithStacks(.continuing, stallID: id, record: record, threshold: threshold, blocked: blocked)
                return (false, false, false)
            }
            let capture = capture(
                threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles)
            addSample(at: index, thread: thread, capture: capture, now: now)
            report(.continuing, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses,
                   samples: tracked[index].sampling.map { finish($0, record: record, endedAt: now, now: now) })
        case .ended(let id, let blocked, let threshold):
            let sampling = tracked[index].sampling
            tracked[index].sampling = nil
            guard suppression.ended(id) == .report else { return (sample.idleSince != 0 && record.poolJob == nil, false, false) }
            let endedAt = sampling.map { min($0.startedAt + blocked.clampedNanoseconds, now) } ?? now
            report(.ended, stallID: id, record: record, threshold: threshold, blocked: blocked,
                   capture: .none, addresses: [],
                   samples: sampling.map { finish($0, record: record, endedAt: endedAt, now: now) })
        }
        // A pool worker's job start wakes no one (its jobs only store to their slot), so the
        // watchdog never parks while one is registered.
        let quiet = sample.idleSince != 0 && detector.active == nil
        return (quiet && record.poolJob == nil, quiet, quiet && unchanged)
    }

    /// For a probed loop that has been overdue for more than two intervals without a stall
    /// reported yet: reads the scheduler statistics of its thread (of each worker, for a
    /// pool) at each tick and marks the sample when ``CPUStarvationCheck`` finds them starved
    /// of CPU: the probe is late because the machine is overloaded, not because code blocks.
    /// Costs nothing while the loop answers its probes.
    private func checkCPUStarvation(at index: Int, detector: StallDetector, sample: inout LoopSample, now: Int64) {
        let overdue = sample.probe.dueAt.map { now - $0 > 2 * max(lastInterval, ThresholdRule.minimumIntervalNanoseconds) } ?? false
        guard overdue, sample.progress == detector.lastProgress, detector.active == nil else {
            tracked[index].starvation.reset()
            return
        }
        let threads: [Int32]
        switch tracked[index].record.target {
        case .thread(let thread): threads = [thread.threadID]
        case .pool(let pool): threads = pool.workers.candidates().map(\.threadID)
        }
        var current: [Int32: SchedulerSample] = [:]
        for tid in threads {
            current[tid] = SchedulerSample.read(threadID: tid, now: now)
        }
        if tracked[index].starvation.observe(current, now: now, interval: lastInterval) {
            sample.waitedForCPU = true
        }
    }

    /// Captures every busy worker of a pool (or the thread of a loop), now, and reports.
    private func reportWithStacks(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration, blocked: Duration
    ) {
        let workers: PoolWorkers
        switch record.target {
        case .thread(let thread):
            let capture = capture(
                threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles)
            report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
                   capture: capture.outcome, addresses: capture.addresses)
            return
        case .pool(let pool):
            workers = pool.workers
        }
        let threads = workers.candidates().prefix(Self.maximumWorkersCaptured).map { worker in
            let capture = capture(threadID: worker.threadID, pidfd: -1, stackHigh: worker.stackHigh, procFiles: .none)
            return PendingThread(
                threadID: worker.threadID, name: worker.name, capture: capture.outcome, addresses: capture.addresses)
        }
        report(kind, stallID: stallID, record: record, threshold: threshold, blocked: blocked,
               capture: .none, addresses: [], threads: Array(threads))
    }

    // MARK: Samples of a stall in progress

    /// Starts the samples of the stall that just began on the loop at `index`, with the
    /// stack taken for `began` as the first.
    private func startSampling(
        at index: Int, thread: LoopThread, capture: StackCapturer.Capture, stallStart: Int64, threshold: Duration,
        now: Int64
    ) {
        let interval = sampleInterval.nanoseconds(threshold: threshold, tick: lastInterval)
        tracked[index].sampling = StallSampling(
            startedAt: stallStart, interval: interval ?? .max / 4, limit: interval == nil ? 1 : maxSamples, now: now)
        addSample(at: index, thread: thread, capture: capture, now: now)
    }

    /// Adds a stack already taken (for `began` or `continuing`) to the samples.
    private func addSample(at index: Int, thread: LoopThread, capture: StackCapturer.Capture, now: Int64) {
        guard tracked[index].sampling?.isFull == false else { return }
        let state = capture.state
        let accounting = ThreadAccounting.read(threadID: thread.threadID, files: thread.procFiles, now: now)
        let process = processAccounting.read()
        capture.addresses.withUnsafeBufferPointer { addresses in
            tracked[index].sampling?.add(
                outcome: capture.outcome, addresses: addresses, state: state, thread: accounting, process: process, at: now)
        }
    }

    /// Takes one more sample of the stall in progress on the loop at `index`: signal-free
    /// when its thread is parked in a system call; a repeated stack allocates nothing.
    private func takeSample(at index: Int, thread: LoopThread, now: Int64) {
        let start = lwd_monotonic_ns()
        capturer.sample(
            threadID: thread.threadID, pidfd: thread.pidfd, stackHigh: thread.stackHigh, procFiles: thread.procFiles
        ) { outcome, addresses, raw in
            let accounting = ThreadAccounting.read(threadID: thread.threadID, files: thread.procFiles, now: now)
            let process = processAccounting.read()
            tracked[index].sampling?.add(
                outcome: outcome, addresses: addresses, state: SampleState(raw), thread: accounting, process: process,
                at: now)
        }
        pauses.noteCaptureWait(lwd_monotonic_ns() - start)
    }

    /// The samples of a stall that ended at `endedAt` (or is reported at `now`), with the
    /// accounting read now to close the last span.
    private func finish(_ sampling: StallSampling, record: LoopRecord, endedAt: Int64, now: Int64) -> PendingSamples {
        let end = record.thread.flatMap { ThreadAccounting.read(threadID: $0.threadID, files: $0.procFiles, now: now) }
        return sampling.pending(endedAt: endedAt, end: end, endProcess: processAccounting.read())
    }

    /// Captures one thread, counting the wait as busy time of the watchdog (see missedTime).
    private func capture(
        threadID: Int32, pidfd: Int32, stackHigh: UInt, procFiles: ThreadProcFiles
    ) -> StackCapturer.Capture {
        let start = lwd_monotonic_ns()
        let capture = capturer.capture(
            threadID: threadID, pidfd: pidfd, stackHigh: stackHigh, procFiles: procFiles)
        pauses.noteCaptureWait(lwd_monotonic_ns() - start)
        if capture.outcome == .unavailable("sigprof-handler-replaced") && !announcedHandlerReplaced {
            announcedHandlerReplaced = true
            say(.warning,
                "LoopWatchdog's SIGPROF handler was replaced by another one (a profiler?); no signal is sent any more, stacks are taken only from threads parked in system calls"
            )
        }
        return capture
    }

    /// Logs `message` with SIGPIPE blocked: the logger may write to a standard error whose
    /// reader is gone, and the watchdog thread otherwise keeps the host's signal mask (the
    /// pool's probes it sends may make libdispatch start a worker from it, which inherits it).
    private func say(_ level: Logger.Level, _ message: String) {
        PlainThread.withSIGPIPEBlocked { logger.log(level: level, "\(message)") }
    }

    /// True when `verdict` lets the event be reported; says once per tracer that stalls
    /// are not reported while it is attached.
    private func allowed(_ verdict: TracerSuppression.Verdict) -> Bool {
        if case .suppressAndAnnounce(let tracerPID) = verdict {
            say(.info,
                "LoopWatchdog: a debugger or tracer (pid \(tracerPID)) is attached; stalls are not reported while it is (LOOP_WATCHDOG_WHEN_TRACED=suppress)"
            )
        }
        return verdict == .report
    }

    /// The workers of the Swift Concurrency pool with a stall in progress in a job of
    /// `priority`.
    private func blockedWorkers(priority: UInt8) -> Int {
        tracked.count { entry in
            entry.detector?.active != nil && entry.record.poolJob?.priority == priority
        }
    }

    private func report(
        _ kind: StallEvent.Kind, stallID: UInt64, record: LoopRecord, threshold: Duration,
        blocked: Duration, capture: CaptureOutcome, addresses: [UInt], threads: [PendingThread] = [],
        samples: PendingSamples? = nil
    ) {
        var loopName = record.name
        var job: PoolJob?
        if let poolJob = record.poolJob {
            let priority = poolJob.priority
            job = PoolJob(
                priority: priority, blockedWorkers: blockedWorkers(priority: priority),
                workers: PoolWorkerJob.poolWidth)
            loopName = "swift-concurrency-pool.\(job!.priorityName)"
        }
        let event = StallEvent(
            kind: kind, stallID: stallID, loopName: loopName, threadID: record.thread?.threadID ?? 0,
            threshold: threshold, blocked: blocked, capture: capture, isPool: record.pool != nil, job: job)
        reporter.report(PendingEvent(event: event, addresses: addresses, threads: threads, samples: samples))
    }
}
