import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// Hangs that last: `continuing` reports on the backoff with a fresh stack each time, and
    /// the hang file that a killed process leaves behind.
    @Suite
    struct HangTests {
        /// A hang that moves from one function to another: the `began` stack shows the first,
        /// the last `continuing` (at about 3.1 s, after 1 s then 2 s of backoff) the second,
        /// so each report took a fresh stack. The hang file follows every report.
        @Test func longHangReportsFreshStacksOnTheBackoffAndKeepsTheHangFile() throws {
            let directory = NSTemporaryDirectory()
            let template = "\(directory)lwd-hang-%p-\(UInt32.random(in: 0...UInt32.max)).txt"
            let path = HangFilePath.expand(template, pid: getpid())
            defer { unlink(path) }
            let events = EventCollector()
            let hangFileAtEachEvent = Mutex<[String]>([])
            let watchdog = Watchdog(
                configuration: Configuration(threshold: .milliseconds(100), hangFile: template),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                environment: [:],
                onEvent: { event in
                    events.append(event)
                    // The hang file's sink runs first: the file is already up to date here.
                    hangFileAtEachEvent.withLock { $0.append((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") }
                })
            watchdog.start()
            let loop = try ScriptedLoop(watchdog: watchdog, name: "hung")
            loop.run([.block { hangInFirstPlace(milliseconds: 1_600); hangInSecondPlace(milliseconds: 2_400) }, .idle(milliseconds: 100)])
            watchdog.stop()

            let all = events.all
            let files = hangFileAtEachEvent.withLock { $0 }
            try #require(all.count >= 4, "\(all)")
            #expect(all.first?.kind == .began)
            #expect(all.last?.kind == .ended)
            let continuing = all.filter { $0.kind == .continuing }
            #expect(continuing.count == 2, "\(all.map { "\($0.kind) \($0.blocked)" })")
            #expect(Set(all.map(\.stallID)).count == 1)
            func names(_ event: StallEvent) -> [String] { event.frames.compactMap(\.symbol) }
            #expect(names(all[0]).contains { $0.contains("hangInFirstPlace") }, "\(names(all[0]))")
            let last = try #require(continuing.last)
            #expect(last.capture.hasStack)
            #expect(names(last).contains { $0.contains("hangInSecondPlace") }, "\(names(last))")
            #expect(last.blocked >= .seconds(3) && last.blocked < .seconds(4), "\(last.blocked)")
            // Backoff: the second continuing comes about 2 s after the first.
            if continuing.count == 2 {
                let gap = continuing[1].blocked - continuing[0].blocked
                #expect(gap >= .milliseconds(1_900) && gap < .milliseconds(2_600), "\(gap)")
            }

            try #require(files.count == all.count)
            #expect(files[0].contains("1 stall in progress:") && files[0].contains("hangInFirstPlace"), "\(files[0])")
            #expect(files[files.count - 2].contains("hangInSecondPlace"), "\(files[files.count - 2])")
            #expect(files.last?.contains("No stall in progress. The last one ended:") == true, "\(files.last ?? "")")
            #expect(files.last?.contains("hangInSecondPlace") == true)
            let onDisk = try String(contentsOfFile: path, encoding: .utf8)
            #expect(onDisk == files.last)
        }

        /// `loop-watchdog demo hang`, as a supervisor would see it: stopped and continued
        /// while it still works (no report), then hung, then killed with SIGKILL. The hang
        /// file it leaves names the function it hangs in.
        @Test func demoHangKilledMidHangLeavesTheHangFile() async throws {
            let template = "\(NSTemporaryDirectory())lwd-demo-hang-%p-\(UInt32.random(in: 0...UInt32.max)).txt"
            let child = try ChildProcess(
                ChildProcess.tool, ["demo", "hang", "--after", "3"], environment: ["LOOP_WATCHDOG_HANG_FILE": template])
            let path = HangFilePath.expand(template, pid: child.pid)
            defer { unlink(path) }
            try await child.waitForOutput(containing: "WORKING")
            try await Task.sleep(for: .milliseconds(500))
            child.send(SIGSTOP)
            try await Task.sleep(for: .seconds(2))
            child.send(SIGCONT)
            try await child.waitForOutput(containing: "HANG")
            // Wait for the first continuing report (1 s after began), then kill.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while clock.now < deadline && !child.standardError.contains("still blocked after") {
                try await Task.sleep(for: .milliseconds(50))
            }
            child.send(SIGKILL)
            let status = try await child.waitForExit()
            #expect(status == 128 + SIGKILL)

            let log = child.standardError
            let began = log.split(separator: "\n").filter { $0.contains("event=stall.began") }
            #expect(began.count == 1, "\(log.suffix(3_000))")
            #expect(log.split(separator: "\n").filter { $0.contains("late (process stopped") }.count == 1, "\(log.suffix(3_000))")
            let file = try String(contentsOfFile: path, encoding: .utf8)
            #expect(file.contains("LoopWatchdog hang file of pid \(child.pid)"), "\(file)")
            #expect(file.contains("1 stall in progress:"), "\(file)")
            #expect(file.contains("still blocked after"), "\(file)")
            #expect(file.contains("waitForLockThatIsNeverReleased()"), "\(file)")
            #expect(file.contains("pthread_mutex_lock"), "\(file)")
        }
    }
}

/// The first place a hang sits in: a sleep.
@inline(never)
func hangInFirstPlace(milliseconds: UInt32) {
    usleep(milliseconds * 1_000)
    blackHole(milliseconds)
}

/// The second place a hang sits in: another sleep, in another function.
@inline(never)
func hangInSecondPlace(milliseconds: UInt32) {
    usleep(milliseconds * 1_000)
    blackHole(milliseconds)
}
