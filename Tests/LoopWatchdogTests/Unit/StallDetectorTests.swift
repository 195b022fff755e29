import Testing

/// One millisecond in nanoseconds.
private let ms: Int64 = 1_000_000

@testable import LoopWatchdog

/// The detection state machine, driven with manual time: no test here sleeps.
struct StallDetectorTests {
    static let threshold = Duration.milliseconds(100)

    /// A manual clock and one loop's counters, stepped tick by tick.
    struct Harness {
        var detector: StallDetector
        var sample: LoopSample
        var now: Int64
        var previous: Int64
        var nextID: UInt64 = 1
        var interval: Int64 = 10 * ms

        init(startBusyAt now: Int64 = 1_000 * ms) {
            sample = LoopSample(progress: 0, idleSince: 0, busySince: now)
            detector = StallDetector(sample: sample, now: now)
            self.now = now
            previous = now
        }

        mutating func tick(by step: Int64? = nil, threshold: Duration = StallDetectorTests.threshold) -> StallDetector.Decision {
            previous = now
            now += step ?? interval
            var id = nextID
            let decision = detector.observe(sample, now: now, previousTick: previous, threshold: threshold) {
                defer { id += 1 }
                return id
            }
            nextID = id
            return decision
        }

        mutating func beat() { sample.progress += 1 }
        mutating func markIdle(at time: Int64) { sample.idleSince = time; sample.progress += 1 }
        mutating func markBusy(at time: Int64) { sample.busySince = time; sample.idleSince = 0; sample.progress += 1 }
    }

    @Test func busyLoopThatKeepsBeatingIsNeverReported() {
        var h = Harness()
        for _ in 0..<1_000 {
            h.beat()
            #expect(h.tick() == .none)
        }
    }

    @Test func idleLoopIsNeverReported() {
        var h = Harness()
        h.markIdle(at: h.now + 1)
        for _ in 0..<10_000 {
            #expect(h.tick() == .none)
        }
    }

    @Test func stallBeginsAtThresholdAndEndsWithIdleTimestamp() {
        var h = Harness()
        // Job starts right after waking at t0 + 2 ms and blocks for 350 ms.
        let wake = h.now + 2 * ms
        h.markBusy(at: wake)
        h.beat()
        var began: StallDetector.Decision?
        var tickOfBegin = 0
        for tick in 1...30 {
            let decision = h.tick()
            if decision != .none, began == nil {
                began = decision
                tickOfBegin = tick
            }
        }
        guard case .began(let id, let blocked, let threshold)? = began else {
            Issue.record("no began: \(String(describing: began))")
            return
        }
        #expect(id == 1)
        #expect(threshold == Self.threshold)
        #expect(blocked == .milliseconds(108))
        #expect(tickOfBegin == 11)
        // The job ends at wake + 350 ms and the loop goes idle; the next tick sees it.
        #expect(h.now == wake - 2 * ms + 300 * ms)
        h.now = wake + 345 * ms
        h.markIdle(at: wake + 350 * ms)
        let ended = h.tick()
        guard case .ended(let endedID, let total, _) = ended else {
            Issue.record("no ended: \(ended)")
            return
        }
        #expect(endedID == 1)
        // The job started when the loop woke and ended when it went idle: both exact.
        #expect(total == .milliseconds(350))
        #expect(h.tick() == .none)
    }

    @Test func stallShorterThanThresholdIsNotReported() {
        var h = Harness()
        h.beat()
        for _ in 0..<8 { #expect(h.tick() == .none) }
        h.beat()
        #expect(h.tick() == .none)
        for _ in 0..<8 { #expect(h.tick() == .none) }
    }

    @Test func longHangReportsContinuingOnADoublingBackoffCappedAtOneMinute() {
        var h = Harness()
        h.beat()
        var continuingAt: [Int64] = []
        var beganAt: Int64?
        let start = h.now
        // Ten simulated minutes, 10 ms ticks.
        for _ in 0..<60_000 {
            switch h.tick() {
            case .began: beganAt = h.now
            case .continuing(let id, let blocked, _):
                #expect(id == 1)
                #expect(blocked.clampedNanoseconds >= h.now - start - 10 * ms)
                continuingAt.append(h.now)
            case .ended: Issue.record("a hang never ends")
            case .none: break
            }
        }
        let began = try! #require(beganAt)
        var gaps: [Int64] = []
        var last = began
        for time in continuingAt {
            gaps.append((time - last) / (1_000 * ms))
            last = time
        }
        #expect(Array(gaps.prefix(8)) == [1, 2, 4, 8, 16, 32, 60, 60])
    }

    @Test func newStallAfterEndedGetsANewID() {
        var h = Harness()
        h.beat()
        for _ in 0..<20 { _ = h.tick() }
        h.beat()
        guard case .ended(1, _, _) = h.tick() else {
            Issue.record("first stall did not end")
            return
        }
        for _ in 0..<20 {
            if case .began(let id, _, _) = h.tick() { #expect(id == 2) }
        }
        #expect(h.detector.active?.id == 2)
    }

    /// Steps `h` over a gap of `missed` during which nothing ran, as WatchdogThread does
    /// when its tick is late: the missed time is forgiven and cut out of the timeline.
    private func tickAfterPause(_ h: inout Harness, missed: Int64) -> StallDetector.Decision {
        h.detector.forgiveMissedTime(missed)
        h.previous = h.now + missed
        h.now += missed + h.interval
        var id = h.nextID
        let decision = h.detector.observe(h.sample, now: h.now, previousTick: h.previous, threshold: Self.threshold) {
            defer { id += 1 }
            return id
        }
        h.nextID = id
        return decision
    }

    @Test func watchdogThatOversleptDoesNotBlameTheLoop() {
        var h = Harness()
        h.beat()
        _ = h.tick()
        // The whole process was stopped for two seconds: the next tick is 2 s late.
        #expect(tickAfterPause(&h, missed: 2_000 * ms) == .none)
        // The loop resumes beating right away: nothing is ever reported.
        for _ in 0..<50 {
            h.beat()
            #expect(h.tick() == .none)
        }
    }

    @Test func stallHalfWayToTheThresholdWhenStoppedIsNotReported() {
        var h = Harness()
        h.beat()
        for _ in 0..<6 { #expect(h.tick() == .none) }  // blocked 60 ms of 100
        #expect(tickAfterPause(&h, missed: 2_000 * ms) == .none)
        // 70 ms blocked in all after the pause: still under the threshold.
        #expect(h.tick() == .none)
        #expect(h.tick() == .none)
        h.beat()
        #expect(h.tick() == .none)
    }

    @Test func loopThatRunsBeforeTheWatchdogAfterAPauseIsNotBlamed() {
        // After SIGCONT the loop thread may run first: it finishes its job (progress) and
        // starts the next one before the watchdog's late tick. The progress must be placed
        // after the pause, or the next job looks blocked since the middle of the pause.
        var h = Harness()
        h.beat()
        for _ in 0..<5 { _ = h.tick() }
        h.beat()
        #expect(tickAfterPause(&h, missed: 2_000 * ms) == .none)
        for _ in 0..<5 { #expect(h.tick() == .none) }  // the next job: 50 ms, no report
        h.beat()
        #expect(h.tick() == .none)
    }

    @Test func forgivingDoesNotHideAStallAlreadyReportedButLeavesThePauseOutOfItsDuration() {
        var h = Harness()
        h.beat()
        var began = false
        for _ in 0..<15 {
            if case .began = h.tick() { began = true }
        }
        #expect(began)
        let blockedBefore = h.now - (h.detector.active?.startedAt ?? 0)
        #expect(tickAfterPause(&h, missed: 5_000 * ms) == .none)
        #expect(h.detector.active != nil)
        h.beat()
        guard case .ended(_, let blocked, _) = h.tick() else {
            Issue.record("the stall did not end")
            return
        }
        // Blocked before the pause, plus about two intervals after it; not the 5 s pause.
        #expect(blocked >= .nanoseconds(blockedBefore))
        #expect(blocked < .nanoseconds(blockedBefore + 3 * h.interval))
    }

    @Test func perLoopThresholdIsHonoured() {
        var h = Harness()
        h.beat()
        var beganTick = 0
        for tick in 1...30 {
            if case .began = h.tick(threshold: .milliseconds(250)) {
                beganTick = tick
                break
            }
        }
        #expect(beganTick == 26)
    }
}
