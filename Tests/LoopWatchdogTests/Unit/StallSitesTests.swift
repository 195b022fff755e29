import Testing

@testable import LoopWatchdog

/// The log's noise control, on manual time: the first stall of a site in full, its repeats
/// counted and said on a backoff, a periodic summary.
@Suite struct StallSitesTests {
    static let second: Int64 = 1_000_000_000

    /// A stack that blocked in libc, called from `function` of the application.
    static func frames(_ function: String, libc: String = "nanosleep") -> [StackFrame] {
        [
            StackFrame(index: 0, address: 0x10, symbol: libc, image: "libc.so.6"),
            StackFrame(index: 1, address: 0x20, symbol: function, image: "server"),
            StackFrame(index: 2, address: 0x30, symbol: "Router.handle()", image: "server"),
            StackFrame(index: 3, address: 0x40, symbol: "start_thread", image: "libc.so.6"),
        ]
    }

    /// One stall of `function`: its began and ended verdicts.
    static func stall(
        _ sites: inout StallSites, id: UInt64, _ function: String, at now: Int64, blocked: Duration = .milliseconds(150)
    ) -> (began: StallSites.Verdict, ended: StallSites.Verdict) {
        let began = sites.decide(Fixtures.event(.began, stallID: id, frames: frames(function)), now: now)
        let ended = sites.decide(Fixtures.event(.ended, stallID: id, blocked: blocked, frames: []), now: now + 150_000_000)
        return (began, ended)
    }

    @Test func firstStallOfASiteIsReportedAndLaterOnesCounted() {
        var sites = StallSites(summaryInterval: nil)
        #expect(Self.stall(&sites, id: 1, "sleepRoute()", at: 0) == (.report, .report))
        #expect(Self.stall(&sites, id: 2, "sleepRoute()", at: Self.second / 2) == (.counted, .counted))
        #expect(Self.stall(&sites, id: 3, "sleepRoute()", at: Self.second, blocked: .milliseconds(300)) == (.counted, .counted))
        // Another site is reported in full, once.
        #expect(Self.stall(&sites, id: 4, "spinRoute()", at: Self.second) == (.report, .report))
        #expect(sites.siteCount == 2)
    }

    @Test func repeatsAreSaidOnADoublingBackoffWithTheirTotals() {
        var sites = StallSites(summaryInterval: nil)
        _ = Self.stall(&sites, id: 1, "sleepRoute()", at: 0)
        _ = Self.stall(&sites, id: 2, "sleepRoute()", at: Self.second / 2)
        _ = Self.stall(&sites, id: 3, "sleepRoute()", at: Self.second, blocked: .milliseconds(300))
        #expect(sites.due(now: 2 * Self.second - 1).repeats.isEmpty)
        #expect(sites.nextDue == 2 * Self.second)
        let first = sites.due(now: 2 * Self.second).repeats
        #expect(first == [
            StallSiteRepeats(
                site: "sleepRoute() <- Router.handle()", loop: "main", stalls: 2, blocked: .milliseconds(450),
                longest: .milliseconds(300), since: .seconds(2))
        ])
        // The next line comes 4 s later, then 8 s, ... at most 60 s apart.
        var due: [Int64] = []
        var now = 2 * Self.second
        var id: UInt64 = 10
        for _ in 0..<7 {
            _ = Self.stall(&sites, id: id, "sleepRoute()", at: now + 1)
            id += 1
            let next = sites.nextDue!
            #expect(sites.due(now: next - 1).repeats.isEmpty)
            #expect(sites.due(now: next).repeats.count == 1)
            due.append((next - now) / Self.second)
            now = next
        }
        #expect(due == [4, 8, 16, 32, 60, 60, 60])
    }

    @Test func aSiteWithNothingNewSaysNothing() {
        var sites = StallSites(summaryInterval: nil)
        _ = Self.stall(&sites, id: 1, "sleepRoute()", at: 0)
        #expect(sites.due(now: 10 * Self.second).repeats.isEmpty)
        #expect(sites.siteCount == 1)
    }

    /// The site is the application's frames: a stack that differs only in libc is one site.
    @Test func siteIgnoresSystemLibraries() {
        #expect(StallSiteSignature.of(Self.frames("a()", libc: "nanosleep")) == StallSiteSignature.of(Self.frames("a()", libc: "read")))
        #expect(StallSiteSignature.of(Self.frames("a()")) != StallSiteSignature.of(Self.frames("b()")))
        let unnamed = [StackFrame(index: 0, address: 0x99, image: "server", imageOffset: 0x1f0)]
        #expect(StallSiteSignature.of(unnamed) == "server+0x1f0")
        let onlySystem = [StackFrame(index: 0, address: 0x1, symbol: "epoll_wait", image: "libc.so.6")]
        #expect(StallSiteSignature.of(onlySystem) == "epoll_wait")
        #expect(StallSiteSignature.of([]) == "unknown")
    }

    @Test func siteLeavesOutTheWatchdogsOwnFramesInTheApplicationImage() {
        let job = [
            StackFrame(index: 0, address: 0x10, symbol: "usleep", image: "libc.so.6"),
            StackFrame(index: 1, address: 0x20, symbol: "sleepRoute()", image: "server"),
            StackFrame(index: 2, address: 0x30, symbol: "swift_job_run", image: "libswift_Concurrency.so"),
            StackFrame(index: 3, address: 0x40, symbol: "run_watched_job", image: "server"),
            StackFrame(index: 4, address: 0x50, symbol: "lwd_anything", image: "server"),
            StackFrame(index: 5, address: 0x60, symbol: "main", image: "server"),
        ]
        #expect(StallSiteSignature.of(job) == "sleepRoute() <- main")
    }

    /// A counted stall that goes on long enough to be `continuing` is logged from then on.
    @Test func aRepeatThatBecomesAHangIsLogged() {
        var sites = StallSites(summaryInterval: nil)
        _ = Self.stall(&sites, id: 1, "sleepRoute()", at: 0)
        #expect(sites.decide(Fixtures.event(.began, stallID: 2, frames: Self.frames("sleepRoute()")), now: Self.second) == .counted)
        #expect(sites.decide(Fixtures.event(.continuing, stallID: 2, frames: Self.frames("sleepRoute()")), now: 2 * Self.second) == .report)
        #expect(sites.decide(Fixtures.event(.ended, stallID: 2, blocked: .seconds(3), frames: []), now: 4 * Self.second) == .report)
        #expect(sites.due(now: 10 * Self.second).repeats.isEmpty)
    }

    @Test func aQuietSiteIsForgottenAndReportedInFullAgain() {
        var sites = StallSites(summaryInterval: nil)
        _ = Self.stall(&sites, id: 1, "sleepRoute()", at: 0)
        let later = StallSites.forgetAfter + 3 * Self.second
        _ = sites.due(now: later)
        #expect(sites.siteCount == 0)
        #expect(Self.stall(&sites, id: 2, "sleepRoute()", at: later) == (.report, .report))
    }

    @Test func sitesAreBoundedAndAnEvictedSitesTotalsAreSaid() {
        var sites = StallSites(summaryInterval: nil)
        _ = Self.stall(&sites, id: 1, "site0()", at: 0)
        _ = Self.stall(&sites, id: 2, "site0()", at: 1)
        for index in 1...StallSites.siteLimit {
            _ = Self.stall(&sites, id: UInt64(10 + index), "site\(index)()", at: Int64(index) * 1_000)
        }
        #expect(sites.siteCount == StallSites.siteLimit)
        let lines = sites.due(now: 1_000_000).repeats
        #expect(lines.map(\.site) == ["site0() <- Router.handle()"])
        #expect(lines.first?.stalls == 1)
    }

    @Test func poolStarvationsAreNeverCounted() {
        var sites = StallSites(summaryInterval: nil)
        for id in UInt64(1)...3 {
            let event = StallEvent(
                kind: .began, stallID: id, loopName: "swift-concurrency-pool.medium", threadID: 0,
                threshold: .milliseconds(100), blocked: .milliseconds(100), capture: .none, isPool: true)
            #expect(sites.decide(event, now: Int64(id) * Self.second) == .report)
        }
    }

    @Test func summaryListsTheMostBlockedSitesOncePerIntervalWhenStallsWereCounted() {
        var sites = StallSites(summaryInterval: 60 * Self.second)
        var id: UInt64 = 1
        for (function, count, milliseconds) in [("a()", 3, 100), ("b()", 5, 300), ("c()", 1, 50)] {
            for _ in 0..<count {
                _ = Self.stall(&sites, id: id, function, at: Int64(id) * Self.second / 10, blocked: .milliseconds(milliseconds))
                id += 1
            }
        }
        #expect(sites.due(now: 59 * Self.second).summary == nil)
        let summary = sites.due(now: 60 * Self.second + Self.second / 10).summary
        #expect(summary?.sites.map(\.site) == ["b() <- Router.handle()", "a() <- Router.handle()", "c() <- Router.handle()"])
        #expect(summary?.sites.map(\.stalls) == [5, 3, 1])
        #expect(summary?.sites.first?.blocked == .milliseconds(1_500))
        // A new interval starts with the next stall; with nothing counted, no summary.
        _ = Self.stall(&sites, id: 100, "d()", at: 200 * Self.second)
        #expect(sites.due(now: 261 * Self.second).summary == nil)
    }

    @Test func linesReadWellInTextAndJSON() throws {
        let repeats = StallSiteRepeats(
            site: "sleepRoute() <- Router.handle()", loop: "swift-concurrency-pool.medium", stalls: 412,
            blocked: .milliseconds(61_200), longest: .milliseconds(210), since: .seconds(32))
        #expect(StallSiteFormatting.message(for: repeats) == """
            stall site 'sleepRoute() <- Router.handle()' (loop 'swift-concurrency-pool.medium'): 412 more stalls, \
            61.2 s blocked in all, the longest 210 ms, in the last 32 s (each new site is reported in full once; \
            LOOP_WATCHDOG_REPEATS=all reports every stall)
            """)
        let object = try parseJSONObject(StallSiteFormatting.jsonLine(for: repeats, wallClockSeconds: 1))
        #expect(object["event"] as? String == "stall.repeats")
        #expect(object["stalls"] as? Int == 412)
        #expect(object["blocked_ms"] as? Double == 61_200)
        let summary = StallSiteSummary(
            interval: .seconds(60), sites: [.init(site: "a()", loop: "main", stalls: 2, blocked: .milliseconds(300))],
            otherSites: 3)
        #expect(StallSiteFormatting.message(for: summary) == """
            stall sites in the last 60 s, most blocked first: 1. 'a()' (loop 'main'): 2 stalls, 300 ms blocked; \
            and 3 other sites
            """)
        let summaryObject = try parseJSONObject(StallSiteFormatting.jsonLine(for: summary, wallClockSeconds: 1))
        #expect(summaryObject["event"] as? String == "stall.summary")
        #expect((summaryObject["sites"] as? [[String: Any]])?.first?["site"] as? String == "a()")
        #expect(summaryObject["other_sites"] as? Int == 3)
    }
}
