import Testing

@testable import LoopWatchdog

/// The ticks kept for probed loops that measure their ticks.
struct ProbeTicksTests {
    @Test func onlyTicksWithAProbeAreKeptLatestFirst() {
        let ticks = ProbeTicks()
        #expect(ticks.read().isEmpty)
        ticks.record(start: 100, end: 200, probeRanAt: 150)
        ticks.record(start: 300, end: 400, probeRanAt: 150)
        #expect(ticks.read() == [100...200])
        ticks.record(start: 500, end: 600, probeRanAt: 550)
        ticks.record(start: 700, end: 800, probeRanAt: 750)
        #expect(ticks.read() == [700...800, 500...600])
    }

    @Test func aTickReportedTwiceIsNotShifted() {
        let ticks = ProbeTicks()
        ticks.record(start: 100, end: 200, probeRanAt: 150)
        ticks.record(start: 500, end: 600, probeRanAt: 550)
        ticks.record(start: 500, end: 650, probeRanAt: 550)
        #expect(ticks.read() == [500...650, 100...200])
    }
}
