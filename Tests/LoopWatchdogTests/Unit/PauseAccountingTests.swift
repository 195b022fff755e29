import Testing

@testable import LoopWatchdog

@Suite struct PauseAccountingTests {
    static let ms: Int64 = 1_000_000
    static let threshold: Int64 = 100 * ms

    @Test func firstTickMissesNothing() {
        var pauses = PauseAccounting(captureWaitBound: 100 * Self.ms)
        let result1 = pauses.missedTime(now: 5_000 * Self.ms, due: nil, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result1 == 0)
    }

    @Test func lateBeyondTheThresholdIsMissed() {
        var pauses = PauseAccounting(captureWaitBound: 100 * Self.ms)
        let result2 = pauses.missedTime(now: 1_000 * Self.ms, due: 1_000 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result2 == 0)
        // Due at 1010 ms, came at 3010 ms: 2 s that nothing ran.
        let missed = pauses.missedTime(now: 3_010 * Self.ms, due: 1_010 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(missed == 2_000 * Self.ms)
    }

    @Test func latenessUpToTheThresholdIsNotMissed() {
        var pauses = PauseAccounting(captureWaitBound: 100 * Self.ms)
        let result3 = pauses.missedTime(now: 1_090 * Self.ms, due: 1_000 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result3 == 0)
    }

    @Test func timeTheWatchdogRanOrWaitedForACPUIsNotMissed() {
        var pauses = PauseAccounting(captureWaitBound: 100 * Self.ms)
        _ = pauses.missedTime(now: 0, due: nil, scheduled: 10 * Self.ms, smallestThreshold: Self.threshold)
        // 500 ms late, of which the thread was running or runnable 450 ms: 50 ms left, under the threshold.
        let result4 = pauses.missedTime(now: 510 * Self.ms, due: 10 * Self.ms, scheduled: 460 * Self.ms, smallestThreshold: Self.threshold)
        #expect(result4 == 0)
        // 500 ms late again, scheduled only 100 ms of it: 400 ms missed.
        let result5 = pauses.missedTime(now: 1_020 * Self.ms, due: 520 * Self.ms, scheduled: 560 * Self.ms, smallestThreshold: Self.threshold)
        #expect(result5 == 400 * Self.ms)
    }

    @Test func captureWaitsCountAsBusyUpToTheirBound() {
        var pauses = PauseAccounting(captureWaitBound: 100 * Self.ms)
        pauses.noteCaptureWait(80 * Self.ms)
        pauses.noteCaptureWait(80 * Self.ms)
        // 250 ms late, 160 ms of it in captures: 90 ms, not missed.
        let result6 = pauses.missedTime(now: 260 * Self.ms, due: 10 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result6 == 0)
        // A capture that waited 2 s counts 100 ms: the process was stopped during it.
        pauses.noteCaptureWait(2_000 * Self.ms)
        let result7 = pauses.missedTime(now: 2_270 * Self.ms, due: 270 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result7 == 1_900 * Self.ms)
        // Waits are counted once: the next tick starts from zero.
        let result8 = pauses.missedTime(now: 2_500 * Self.ms, due: 2_280 * Self.ms, scheduled: nil, smallestThreshold: Self.threshold)
        #expect(result8 == 220 * Self.ms)
    }
}
