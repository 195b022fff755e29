import Testing

@testable import LoopWatchdog

/// One millisecond in nanoseconds.
private let ms: Int64 = 1_000_000

/// The detector's path for loops watched by probes (NIO loops, the main queue, pools),
/// driven with manual time: no test here sleeps.
struct ProbedStallDetectorTests {
    static let threshold = Duration.milliseconds(100)

    /// A manual clock, one probed loop's record and the watchdog's ticks.
    struct Harness {
        var detector: StallDetector
        var sample: LoopSample
        var now: Int64
        var nextID: UInt64 = 1
        let origin: Int64

        /// A loop whose first probe ran at `start` and whose next one is due `period` later.
        init(start: Int64 = 1_000 * ms, period: Int64 = 10 * ms) {
            sample = LoopSample(
                progress: 1, idleSince: 0, busySince: start, probeRanAt: start, probe: .due(at: start + period))
            detector = StallDetector(sample: sample, now: start)
            now = start
            origin = start
        }

        /// The time `microseconds` after the harness started.
        func at(microseconds: Int64) -> Int64 {
            origin + microseconds * 1_000
        }

        /// The probe ran at `time`; the next is due `period` later (`nil`: none is due, as
        /// for a pool between probes).
        mutating func probeRan(at time: Int64, period: Int64? = 10 * ms) {
            sample.previousProbeRanAt = sample.probeRanAt
            sample.probeRanAt = time
            sample.probe = period.map { .due(at: time + $0) } ?? .answered
            sample.progress += 1
        }

        /// The watchdog's tick at `time`.
        mutating func tick(at time: Int64, threshold: Duration = ProbedStallDetectorTests.threshold) -> StallDetector.Decision {
            let previous = now
            now = time
            var id = nextID
            let decision = detector.observe(sample, now: now, previousTick: previous, threshold: threshold) {
                defer { id += 1 }
                return id
            }
            nextID = id
            return decision
        }
    }

    @Test func aStartMeasuredByTheProberInsideTheWindowIsTaken() {
        // A loop probed by the watchdog thread: answered (quiet) at 1000 ms, then found on a
        // CPU at 1025 ms, where its CPU clock says it woke at 1003 ms; the probe sent then
        // never runs until 1203 ms.
        var h = Harness()
        h.probeRan(at: 1_000 * ms, period: nil)
        #expect(h.tick(at: 1_000 * ms) == .none)
        h.sample.busySince = 1_003 * ms
        h.sample.probe = .due(at: 1_025 * ms)
        #expect(h.tick(at: 1_050 * ms) == .none)
        guard case .began(_, let blocked, _) = h.tick(at: 1_105 * ms) else {
            Issue.record("no stall began")
            return
        }
        #expect(blocked == .milliseconds(102))
        h.probeRan(at: 1_203 * ms, period: nil)
        #expect(h.tick(at: 1_210 * ms) == .ended(stallID: 1, blocked: .milliseconds(200), threshold: Self.threshold))
    }

    @Test func aStartOutsideTheWindowIsIgnored() {
        // busySince from before the last answer (a registration long ago): the middle is taken.
        var h = Harness()
        h.probeRan(at: 1_000 * ms, period: nil)
        #expect(h.tick(at: 1_000 * ms) == .none)
        h.sample.busySince = 900 * ms
        h.sample.probe = .due(at: 1_020 * ms)
        h.probeRan(at: 1_000 * ms, period: nil)
        h.sample.probe = .due(at: 1_020 * ms)
        #expect(h.tick(at: 1_030 * ms) == .none)
        #expect(h.tick(at: 1_125 * ms) == .began(stallID: 1, blocked: .milliseconds(115), threshold: Self.threshold))
        h.probeRan(at: 1_150 * ms, period: nil)
        #expect(h.tick(at: 1_160 * ms) == .ended(stallID: 1, blocked: .milliseconds(140), threshold: Self.threshold))
    }

    @Test func loopAnsweringEveryProbeIsNeverReportedDespiteTimerSlack() {
        var h = Harness()
        var random: UInt64 = 42
        var probeDue = h.sample.probe.dueAt!
        var time = h.now
        let end = h.now + 10_000 * ms
        // Ten simulated seconds; each probe runs up to 40 ms after its due time.
        while time < end {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let slack = Int64(random >> 33) % (40 * ms)
            let ranAt = probeDue + slack
            var tickAt = (time / (10 * ms) + 1) * (10 * ms)
            while tickAt < ranAt {
                #expect(h.tick(at: tickAt) == .none)
                tickAt += 10 * ms
            }
            h.probeRan(at: ranAt)
            probeDue = h.sample.probe.dueAt!
            time = ranAt
        }
        #expect(h.detector.active == nil)
    }

    @Test func overdueProbeBeginsAStallThatTheLateProbeEnds() {
        var h = Harness()
        let start = h.now
        // The loop blocks 4 ms after the probe ran, until start + 304 ms. The detector only
        // knows the stall began between the run (start) and the due time (start + 10 ms).
        var began: StallDetector.Decision?
        var tick = start
        while began == nil && tick < h.at(microseconds: 300_000) {
            tick += 10 * ms
            let decision = h.tick(at: tick)
            if decision != .none { began = decision }
        }
        #expect(began == .began(stallID: 1, blocked: .milliseconds(105), threshold: Self.threshold))
        #expect(tick == h.at(microseconds: 110_000))
        while tick < h.at(microseconds: 300_000) {
            tick += 10 * ms
            #expect(h.tick(at: tick) == .none)
        }
        h.probeRan(at: h.at(microseconds: 304_200))
        // Dated from the middle of the window: 304.2 - 5 ms.
        #expect(h.tick(at: h.at(microseconds: 310_000)) == .ended(stallID: 1, blocked: .microseconds(299_200), threshold: Self.threshold))
        #expect(h.tick(at: h.at(microseconds: 320_000)) == .none)
    }

    @Test func stallEndsWithTheLateProbeEvenWhenTheNextOneRanBeforeTheWatchdogLooked() {
        var h = Harness()
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 300_000), by: Int(10 * ms)) {
            _ = h.tick(at: tick)
        }
        // The late probe ran at +304.2 ms and the next one, on time, at +314.3 ms: the
        // watchdog's tick at +315 ms sees both.
        h.probeRan(at: h.at(microseconds: 304_200))
        h.probeRan(at: h.at(microseconds: 314_300))
        #expect(h.tick(at: h.at(microseconds: 315_000)) == .ended(stallID: 1, blocked: .microseconds(299_200), threshold: Self.threshold))
    }

    @Test func measuredTickDatesTheStallExactly() {
        var h = Harness()
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 300_000), by: Int(10 * ms)) {
            _ = h.tick(at: tick)
        }
        #expect(h.detector.active != nil)
        // NIO measured one tick from start + 4 ms to start + 305 ms; the late probe ran in it.
        h.sample.probeTicks = [h.at(microseconds: 4_000)...h.at(microseconds: 305_000)]
        h.probeRan(at: h.at(microseconds: 304_500))
        #expect(h.tick(at: h.at(microseconds: 310_000)) == .ended(stallID: 1, blocked: .microseconds(300_500), threshold: Self.threshold))
    }

    @Test func tickOfTheLateProbeIsFoundWhenTheNextProbeRanInALaterTick() {
        var h = Harness()
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 300_000), by: Int(10 * ms)) {
            _ = h.tick(at: tick)
        }
        // The late probe ran at +304.5 ms in the tick +4...+305 ms; the next one at +314.6 ms
        // in a tick of its own, before the watchdog looked.
        h.probeRan(at: h.at(microseconds: 304_500))
        h.probeRan(at: h.at(microseconds: 314_600))
        h.sample.probeTicks = [
            h.at(microseconds: 314_500)...h.at(microseconds: 314_700), h.at(microseconds: 4_000)...h.at(microseconds: 305_000),
        ]
        #expect(h.tick(at: h.at(microseconds: 315_000)) == .ended(stallID: 1, blocked: .microseconds(300_500), threshold: Self.threshold))
    }

    @Test func tickThatBeganAfterTheProbeWasDueDoesNotDateTheStall() {
        var h = Harness()
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 300_000), by: Int(10 * ms)) {
            _ = h.tick(at: tick)
        }
        // The loop blocked outside any measured tick (handling I/O): the tick that ran the
        // late probe began after the block.
        h.sample.probeTicks = [h.at(microseconds: 304_000)...h.at(microseconds: 305_000)]
        h.probeRan(at: h.at(microseconds: 304_200))
        #expect(h.tick(at: h.at(microseconds: 310_000)) == .ended(stallID: 1, blocked: .microseconds(299_200), threshold: Self.threshold))
    }

    @Test func tickThatEndedBeforeTheLateProbeDoesNotDateTheStall() {
        var h = Harness()
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 300_000), by: Int(10 * ms)) {
            _ = h.tick(at: tick)
        }
        // The last tick NIO reported is an older one: the late probe's tick is not in yet.
        h.sample.probeTicks = [h.at(microseconds: 2_000)...h.at(microseconds: 3_000)]
        h.probeRan(at: h.at(microseconds: 304_200))
        #expect(h.tick(at: h.at(microseconds: 310_000)) == .ended(stallID: 1, blocked: .microseconds(299_200), threshold: Self.threshold))
    }

    @Test func poolIsLateOnlyWhileAProbeWaits() {
        var h = Harness()
        let start = h.now
        // Answered, and no probe sent since: never late, however long.
        h.probeRan(at: h.at(microseconds: 1_000), period: nil)
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 2_000_000), by: Int(10 * ms)) {
            #expect(h.tick(at: tick) == .none)
        }
        // The watchdog's cadence: at each tick it sends a probe if the last one was answered;
        // the pool answers 0.3 ms later, until it is starved from +3003 ms to +3250 ms.
        var decisions: [Int64: StallDetector.Decision] = [:]
        for tick in stride(from: h.at(microseconds: 2_010_000), through: h.at(microseconds: 3_400_000), by: Int(10 * ms)) {
            let decision = h.tick(at: tick)
            if decision != .none { decisions[(tick - start) / ms] = decision }
            if h.sample.probe == .answered {
                h.sample.probe = .due(at: tick)
            }
            let answer = tick + 300_000
            let starved = (h.at(microseconds: 3_003_000))...(h.at(microseconds: 3_250_000))
            if h.sample.probe != .answered && !starved.contains(answer) {
                h.probeRan(at: answer, period: nil)
            }
        }
        // The probe sent at +3010 waited; the last answer was at +3000.3: the stall is dated
        // from the middle, +3005.15, reported at +3110, and ended by the answer at +3250.3,
        // sent at +3250 (the tick that sends it also sees no answer yet).
        #expect(decisions[3110] == .began(stallID: 1, blocked: .microseconds(104_850), threshold: Self.threshold))
        if case .ended(1, let blocked, _)? = decisions[3260] {
            #expect(blocked == .microseconds(245_150))
        } else {
            Issue.record("\(decisions)")
        }
        #expect(decisions.count == 2)
    }

    @Test func oversleptWatchdogDoesNotBlameAProbedLoop() {
        var h = Harness()
        // The whole process was stopped: the next tick comes two seconds later.
        h.detector.forgiveMissedTime(h.at(microseconds: 2_000_000) - h.at(microseconds: 0))
        #expect(h.tick(at: h.at(microseconds: 2_000_000)) == .none)
        h.probeRan(at: h.at(microseconds: 2_000_100))
        for tick in stride(from: h.at(microseconds: 2_010_000), through: h.at(microseconds: 3_000_000), by: Int(10 * ms)) {
            if let due = h.sample.probe.dueAt, tick > due { h.probeRan(at: due) }
            #expect(h.tick(at: tick) == .none)
        }
    }

    @Test func loopWhoseThreadWaitedForACPUIsNotBlamed() {
        var h = Harness()
        // Overdue from +10 ms, but its thread was runnable without a CPU until +200 ms.
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 200_000), by: Int(10 * ms)) {
            h.sample.waitedForCPU = tick > h.at(microseconds: 30_000)
            #expect(h.tick(at: tick) == .none)
        }
        // Then it is blocked for real: counted from the last tick it was excused.
        h.sample.waitedForCPU = false
        var beganAt: Int64?
        for tick in stride(from: h.at(microseconds: 210_000), through: h.at(microseconds: 400_000), by: Int(10 * ms)) {
            if case .began(1, let blocked, _) = h.tick(at: tick) {
                beganAt = tick
                #expect(blocked == .milliseconds(100))
            }
        }
        #expect(beganAt == h.at(microseconds: 300_000))
    }

    @Test func schedulerSamplesTellStarvationFromBlockingAndSpinning() {
        let start = SchedulerSample(at: 0, onCPU: 1_000, waiting: 2_000, isRunnable: true)
        // Runnable all along without a CPU: starved (the wait is not counted until it runs).
        #expect(SchedulerSample(at: 50 * ms, onCPU: 1_000, waiting: 2_000, isRunnable: true).waitedForCPU(since: start))
        // Waited, then got the CPU back: starved.
        let blocked = SchedulerSample(at: 0, onCPU: 1_000, waiting: 2_000, isRunnable: false)
        #expect(SchedulerSample(at: 50 * ms, onCPU: 1_000 + 1 * ms, waiting: 2_000 + 45 * ms, isRunnable: false)
            .waitedForCPU(since: blocked))
        // Blocked in a system call: neither runnable nor waiting.
        #expect(!SchedulerSample(at: 50 * ms, onCPU: 1_000, waiting: 2_000, isRunnable: false).waitedForCPU(since: blocked))
        // Spinning on an overloaded machine: runs a third of the time.
        #expect(!SchedulerSample(at: 50 * ms, onCPU: 1_000 + 17 * ms, waiting: 2_000 + 33 * ms, isRunnable: true)
            .waitedForCPU(since: start))
    }

    @Test func hangOfAProbedLoopIsReportedAgainOnTheBackoff() {
        var h = Harness()
        let start = h.now
        var kinds: [String] = []
        for tick in stride(from: h.at(microseconds: 10_000), through: h.at(microseconds: 3_200_000), by: Int(10 * ms)) {
            switch h.tick(at: tick) {
            case .began: kinds.append("began@\((tick - start) / ms)")
            case .continuing: kinds.append("continuing@\((tick - start) / ms)")
            case .ended: kinds.append("ended")
            case .none: break
            }
        }
        #expect(kinds == ["began@110", "continuing@1110", "continuing@3110"])
    }
}
