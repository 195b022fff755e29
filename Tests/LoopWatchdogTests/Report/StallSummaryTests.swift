import Testing

@testable import LoopWatchdog
@testable import LoopWatchdogReport

/// Stall totals by site, stack, loop and cause, from events and repeats lines.
@Suite struct StallSummaryTests {
    static func frames(_ names: [String]) -> [StackFrame] {
        [StackFrame(index: 0, address: 1, symbol: "usleep", image: "libc.so.6")]
            + names.enumerated().map { StackFrame(index: $0.offset + 1, address: UInt($0.offset + 2), symbol: $0.element, image: "App") }
    }

    static let sleepStack = frames(["sleepRoute", "handle", "serve"])
    static let spinStack = frames(["spinRoute", "handle", "serve"])

    /// Adds one whole stall: began with `stack`, ended after `milliseconds` with `cause`.
    static func stall(
        _ summary: inout StallSummary, id: UInt64, loop: String = "pool", stack: [StackFrame], milliseconds: Double,
        cause: String = "sleeping", end: Double = 1000
    ) {
        summary.add(Fixtures.event(.began, stallID: id, loop: loop, blocked: .milliseconds(100), frames: stack), time: end - 1, cause: nil)
        summary.add(Fixtures.event(.ended, stallID: id, loop: loop, blocked: .milliseconds(milliseconds), frames: []), time: end, cause: cause)
    }

    @Test func sitesAddUpTheirStallsAndAreOrderedByBlockedTime() {
        var summary = StallSummary()
        for (index, milliseconds) in [300.0, 310, 290, 305].enumerated() {
            Self.stall(&summary, id: UInt64(index + 1), stack: Self.sleepStack, milliseconds: milliseconds)
        }
        Self.stall(&summary, id: 9, loop: "NIO-ELT-0-#1", stack: Self.spinStack, milliseconds: 2000, cause: "computing")
        let sites = summary.sites()
        #expect(sites.map(\.site) == ["spinRoute <- handle <- serve", "sleepRoute <- handle <- serve"])
        #expect(sites[1].stalls == 4)
        #expect(sites[1].blocked == .milliseconds(1205))
        #expect(sites[1].longest == .milliseconds(310))
        #expect(sites[1].mainCause == "sleeping")
        #expect(sites[0].loops == ["NIO-ELT-0-#1": .milliseconds(2000)])
        #expect(summary.sites(sortedBy: .count).first?.site == "sleepRoute <- handle <- serve")
        #expect(summary.stallCount == 5)
        #expect(summary.blockedTotal == .milliseconds(3205))
        #expect(summary.stacks.reduce(Duration.zero) { $0 + $1.blocked } == summary.blockedTotal)
    }

    @Test func quantilesAreWithinOnePercent() {
        var summary = StallSummary()
        for index in 1...1000 {
            Self.stall(&summary, id: UInt64(index), stack: Self.sleepStack, milliseconds: Double(100 + index))
        }
        let site = summary.sites()[0]
        let p50 = site.durations.quantile(0.5).milliseconds
        let p99 = site.durations.quantile(0.99).milliseconds
        #expect(abs(p50 - 600) <= 6, "p50 \(p50)")
        #expect(abs(p99 - 1090) <= 11, "p99 \(p99)")
    }

    @Test func repeatsAddToTheirSiteWithItsStack() {
        var summary = StallSummary()
        Self.stall(&summary, id: 1, stack: Self.sleepStack, milliseconds: 300)
        summary.add(
            StallSiteRepeatsLine(
                site: "sleepRoute <- handle <- serve", loop: "pool", stalls: 5, blocked: .milliseconds(1500),
                longest: .milliseconds(320), time: 1005))
        let site = summary.sites()[0]
        #expect(site.stalls == 6)
        #expect(site.repeatedStalls == 5)
        #expect(site.blocked == .milliseconds(1800))
        #expect(site.longest == .milliseconds(320))
        #expect(summary.stacks.count == 1)
        #expect(summary.stacks[0].blocked == .milliseconds(1800))
        #expect(summary.stacks[0].stalls == 6)
        #expect(summary.stacks[0].frames == Self.sleepStack)
    }

    @Test func repeatsOfASiteNeverShownInFullAreDrawnWithTheSiteName() {
        var summary = StallSummary()
        summary.add(StallSiteRepeatsLine(site: "a <- b", loop: "pool", stalls: 2, blocked: .milliseconds(400), longest: .milliseconds(210), time: 5))
        #expect(summary.stacks.map { StallSummary.names($0.frames) } == [["a <- b"]])
    }

    @Test func filtersSelectLoopsTimesAndDurations() {
        var summary = StallSummary(
            filter: .init(loopPrefixes: ["swift-concurrency-pool"], since: 100, until: 200, minimumDuration: .milliseconds(250)))
        Self.stall(&summary, id: 1, loop: "swift-concurrency-pool.medium", stack: Self.sleepStack, milliseconds: 300, end: 150)
        Self.stall(&summary, id: 2, loop: "NIO-ELT-0-#0", stack: Self.sleepStack, milliseconds: 300, end: 150)
        Self.stall(&summary, id: 3, loop: "swift-concurrency-pool.medium", stack: Self.sleepStack, milliseconds: 200, end: 150)
        Self.stall(&summary, id: 4, loop: "swift-concurrency-pool.medium", stack: Self.sleepStack, milliseconds: 300, end: 250)
        Self.stall(&summary, id: 5, loop: "swift-concurrency-pool.medium", stack: Self.sleepStack, milliseconds: 300, end: 99)
        #expect(summary.stallCount == 1)
        #expect(summary.blockedTotal == .milliseconds(300))
    }

    @Test func aStallStillOpenAtTheEndIsCountedWithItsLastDuration() {
        var summary = StallSummary()
        summary.add(Fixtures.event(.began, stallID: 1, blocked: .milliseconds(100), frames: Self.sleepStack), time: 10, cause: nil)
        summary.add(Fixtures.event(.continuing, stallID: 1, blocked: .milliseconds(5000), frames: Self.sleepStack), time: 15, cause: nil)
        #expect(summary.stallCount == 0)
        let open = summary.finish()
        #expect(open.count == 1)
        #expect(open[0].ended == false)
        #expect(open[0].blocked == .milliseconds(5000))
        #expect(summary.unfinishedCount == 1)
        #expect(summary.blockedTotal == .milliseconds(5000))
    }

    @Test func anEndedStallWithoutItsBeganIsCountedAsUnknown() {
        var summary = StallSummary()
        summary.add(Fixtures.event(.ended, stallID: 3, blocked: .milliseconds(250), frames: []), time: 10, cause: "computing")
        #expect(summary.sites().map(\.site) == ["unknown (no stall.began)"])
    }

    @Test func theSameStallIDOnTwoLoopsIsTwoStalls() {
        var summary = StallSummary()
        summary.add(Fixtures.event(.began, stallID: 1, loop: "a", frames: Self.sleepStack), time: 1, cause: nil)
        summary.add(Fixtures.event(.began, stallID: 1, loop: "b", frames: Self.spinStack), time: 1, cause: nil)
        summary.add(Fixtures.event(.ended, stallID: 1, loop: "b", blocked: .milliseconds(200), frames: []), time: 2, cause: nil)
        summary.add(Fixtures.event(.ended, stallID: 1, loop: "a", blocked: .milliseconds(300), frames: []), time: 2, cause: nil)
        #expect(Set(summary.sites().map(\.site)) == ["sleepRoute <- handle <- serve", "spinRoute <- handle <- serve"])
    }

    @Test func eventsFromTheWatchdogCountWithTheirCause() {
        var summary = StallSummary()
        var ended = Fixtures.event(.ended, stallID: 1, blocked: .milliseconds(300), frames: [])
        ended.cause = StallCause(verdict: .computing, phases: [], measured: .milliseconds(200))
        summary.add(Fixtures.event(.began, stallID: 1, frames: Self.spinStack), time: 1)
        summary.add(ended, time: 2)
        #expect(summary.sites()[0].mainCause == "computing")
    }

    @Test func theOpenLimitBoundsMemoryByCountingTheOldest() {
        var summary = StallSummary(openLimit: 10)
        for index in 0..<100 {
            summary.add(Fixtures.event(.began, stallID: UInt64(index), frames: Self.sleepStack), time: Double(index), cause: nil)
        }
        #expect(summary.unfinishedCount == 90)
        #expect(summary.finish().count == 10)
    }
}
