import CLoopWatchdog
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// Load and soak. The figures (loops, stalls, cycles, memory and descriptors before and
    /// after) are printed as `FIGURE` lines; scripts/reliability.sh runs these tests alone
    /// and collects them. Memory bounds are generous: they catch a leak per stall or per
    /// cycle, not allocator noise.
    @Suite
    struct SoakTests {
        /// 64 loops with random stalls (300-450 ms, threshold 50 ms) in a child process:
        /// every stall reported exactly once as began, with a stack, and once as ended, with
        /// its duration; nothing else; memory and descriptors flat after a warm-up round.
        @Test func sixtyFourLoopsWithRandomStalls() async throws {
            let (result, child) = try await ChildProcess.runHelper(["soak", "64", "8"])
            // On failure, whether the watchdog thought the process had been paused.
            let pauses = child.standardError.split(separator: "\n").filter { $0.contains("late (process stopped") }
            figure("soak", result, ["loops", "intended", "began", "ended", "before_rss_kb", "after_rss_kb", "before_fds", "after_fds"])
            #expect(int(result, "intended") == 64 * 9)
            #expect(int(result, "began") == int(result, "intended"), "\(result) \(pauses)")
            #expect(int(result, "ended") == int(result, "intended"), "\(result) \(pauses)")
            #expect(int(result, "complete_stalls") == int(result, "intended"), "\(result)")
            // Every 32nd loop spins, and is captured by signal: under ThreadSanitizer, which
            // defers signals to its own safe points, such a capture may time out.
            let spinningStalls = Sanitizer.thread ? 2 * 9 : 0
            #expect(int(result, "began_with_stack") >= int(result, "intended") - spinningStalls, "\(result)")
            #expect(int(result, "unmatched") == 0, "\(result)")
            #expect(int(result, "durations_off") == 0, "\(result)")
            #expect(int(result, "continuing") == 0, "\(result)")
            #expect(int(result, "after_fds") == int(result, "before_fds"), "\(result)")
            if !Sanitizer.any {  // shadow memory grows by design under a sanitizer
                #expect(int(result, "after_rss_kb") - int(result, "before_rss_kb") < 4_096, "\(result)")
            }
        }

        /// 1,000 loops on threads that come and go (half unregister, half just exit), ten of
        /// them with a stall: each stall reported once and ended once, every pidfd closed,
        /// memory flat.
        @Test func thousandRegisterUnregisterCycles() async throws {
            let (result, _) = try await ChildProcess.runHelper(["cycles", "1000"])
            figure("cycles", result, ["cycles", "began", "ended", "before_rss_kb", "after_rss_kb", "before_fds", "after_fds", "after_pidfds"])
            #expect(int(result, "began") == int(result, "intended_stalls"), "\(result)")
            #expect(int(result, "ended") == int(result, "intended_stalls"), "\(result)")
            #expect(int(result, "began_ids") == int(result, "intended_stalls"), "\(result)")
            #expect(int(result, "after_fds") == int(result, "before_fds"), "\(result)")
            #expect(int(result, "after_pidfds") == 0, "\(result)")
            if !Sanitizer.any {  // shadow memory grows by design under a sanitizer
                #expect(int(result, "after_rss_kb") - int(result, "before_rss_kb") < 4_096, "\(result)")
            }
        }

        /// 10,000 stalls in a row through the real watchdog loop, capturer and reporter, with
        /// manual time (real time would take 10,000 x 100 ms): every stall reported exactly
        /// once as began and once as ended, with distinct ids, and memory flat.
        @Test func tenThousandStallsInARow() throws {
            let tally = StallTally()
            let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), onEvent: { tally.count($0) })
            func stall() {
                manual.heartbeat.beat()
                manual.tick(after: .milliseconds(10))  // progress
                manual.tick(after: .milliseconds(60))  // blocked about 60 ms
                manual.tick(after: .milliseconds(60))  // about 120 ms: began, captured for real
                manual.heartbeat.beat()
                manual.tick(after: .milliseconds(10))  // progress: ended
            }
            manual.tick(after: .milliseconds(10))
            // Flushed every 100 stalls (200 events): the reporter queues at most
            // Reporter.capacity events and drops the rest.
            for round in 0..<1_000 {  // warm-up
                stall()
                if round % 100 == 99 { manual.flush() }
            }
            manual.flush()
            let before = rssKilobytes()
            for round in 0..<10_000 {
                stall()
                if round % 100 == 99 { manual.flush() }
            }
            manual.flush()
            let after = rssKilobytes()
            let counts = tally.snapshot
            print("FIGURE stalls stalls=10000 began=\(counts.began - 1_000) ended=\(counts.ended - 1_000) before_rss_kb=\(before) after_rss_kb=\(after)")
            #expect(counts.began == 11_000 && counts.ended == 11_000, "\(counts)")
            #expect(counts.distinctBegan == 11_000 && counts.distinctEnded == 11_000, "\(counts)")
            #expect(counts.endedWithoutBegan == 0, "\(counts)")
            // The loop's thread stays parked in poll(2): every capture is signal-free and has
            // a stack.
            #expect(counts.withoutStack == 0, "\(counts)")
            // Other tests run in parallel in this process: a wide bound, still far below
            // what keeping anything per stall would cost.
            if !Sanitizer.any {  // shadow memory grows by design under a sanitizer
                #expect(after - before < 32_768, "\(before) -> \(after) kB")
            }
        }
    }
}

/// Counts events without keeping them.
final class StallTally: Sendable {
    struct Counts: Sendable {
        var began = 0
        var ended = 0
        var distinctBegan = 0
        var distinctEnded = 0
        var endedWithoutBegan = 0
        var withoutStack = 0
        var stacklessOutcomes = Set<String>()
    }
    private struct State {
        var counts = Counts()
        var open = Set<UInt64>()
        var seenBegan = Set<UInt64>()
        var seenEnded = Set<UInt64>()
    }
    private let state = Mutex(State())

    func count(_ event: StallEvent) {
        state.withLock { state in
            if event.kind == .began {
                state.counts.began += 1
                if state.seenBegan.insert(event.stallID).inserted { state.counts.distinctBegan += 1 }
                state.open.insert(event.stallID)
                if !event.capture.hasStack || event.frames.isEmpty {
                    state.counts.withoutStack += 1
                    state.counts.stacklessOutcomes.insert(event.capture.description)
                }
            } else if event.kind == .ended {
                state.counts.ended += 1
                if state.seenEnded.insert(event.stallID).inserted { state.counts.distinctEnded += 1 }
                if state.open.remove(event.stallID) == nil { state.counts.endedWithoutBegan += 1 }
            }
        }
    }

    var snapshot: Counts { state.withLock { $0.counts } }
}

/// VmRSS of this process, in kB.
func rssKilobytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
}
