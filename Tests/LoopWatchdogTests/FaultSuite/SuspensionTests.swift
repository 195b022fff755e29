import CLoopWatchdog
import Foundation
import Glibc
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// The whole process stopped (SIGSTOP then SIGCONT, or a paused VM: the same to the
    /// watchdog, whose own wake-up comes late): no loop is blamed for it.
    @Suite
    struct SuspensionTests {
        /// A real child process whose loop is always in the middle of a job, stopped for two
        /// seconds and continued: no stall event, exactly one info line about the pause.
        @Test func stoppedAndContinuedProcessReportsNoStall() async throws {
            let output = "\(NSTemporaryDirectory())lwd-suspend-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
            defer { unlink(output) }
            let child = try ChildProcess(
                ChildProcess.helper, ["busy-loop"],
                environment: [
                    "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": output,
                    "LOOP_WATCHDOG_THRESHOLD": "200ms",
                ])
            try await child.waitForOutput(containing: "READY")
            try await Task.sleep(for: .seconds(1))
            child.send(SIGSTOP)
            try await Task.sleep(for: .seconds(2))
            child.send(SIGCONT)
            try await Task.sleep(for: .seconds(1))
            child.send(SIGTERM)
            let status = try await child.waitForExit()
            #expect(status == 0, "\(child.standardError.suffix(2_000))")
            let events = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(!events.contains("stall."), "\(events)")
            let pauseLines = child.standardError.split(separator: "\n").filter { $0.contains("late (process stopped") }
            #expect(pauseLines.count == 1, "\(child.standardError.suffix(2_000))")
            #expect(int(try child.result(), "jobs") > 10)
        }

        /// A stop and continue in the middle of a sleep makes the kernel continue the sleep
        /// as `restart_syscall`; the capture at the threshold must not signal it there (a
        /// signal ends the restarted sleep with EINTR: a 400 ms sleep ended after about
        /// 100 ms). The sleep lasts its full time, and the stall is reported with a stack.
        @Test func sleepRestartedAfterStopAndContinueIsNotCutShort() async throws {
            let output = "\(NSTemporaryDirectory())lwd-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
            defer { unlink(output) }
            let child = try ChildProcess(
                ChildProcess.helper, ["stalls", "1", "400"],
                environment: [
                    "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": output,
                    "LOOP_WATCHDOG_THRESHOLD": "150ms",
                ])
            try await child.waitForOutput(containing: "READY")
            try await Task.sleep(for: .milliseconds(20))
            child.send(SIGSTOP)
            try await Task.sleep(for: .milliseconds(20))
            child.send(SIGCONT)
            let status = try await child.waitForExit()
            #expect(status == 0, "\(child.standardError.suffix(2_000))")
            let result = try child.result()
            #expect(int(result, "shortest_sleep_ms") >= 399, "\(result)")
            let events = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(events.contains("\"event\":\"stall.began\""), "\(events)")
            #expect(events.contains("helperBlockedInSleep"), "\(events)")
        }

        /// After SIGCONT the loop thread may run before the watchdog thread: it finishes its
        /// job and starts the next one before the watchdog's late tick. That next job must
        /// not look blocked since the middle of the pause.
        @Test func loopThatRunsBeforeTheLateTickIsNotBlamed() throws {
            let manual = try ManualTimeWatchdog(threshold: .milliseconds(100))
            manual.tick(after: .milliseconds(10))
            for _ in 0..<5 {
                manual.heartbeat.beat()
                manual.tick(after: .milliseconds(10))
            }
            // Mid-job (60 ms of 100) when the process is stopped for 2 s.
            for _ in 0..<6 { manual.tick(after: .milliseconds(10)) }
            manual.heartbeat.beat()  // the loop ran first after SIGCONT, and started a new job
            manual.tick(after: .milliseconds(2_010))
            for _ in 0..<8 { manual.tick(after: .milliseconds(10)) }  // 80 ms into the new job
            manual.heartbeat.beat()
            manual.tick(after: .milliseconds(10))
            manual.flush()
            #expect(manual.events.all.isEmpty, "\(manual.events.all)")
        }

        /// Pauses every few ticks (an overloaded machine): one "woke late" line a minute at
        /// most, the next one counting the pauses in between (it was one line per pause:
        /// 195 in 8 s).
        @Test func latePausesAreSaidOnceAMinute() throws {
            let (handler, logger) = inMemoryLogger()
            let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), logger: logger)
            manual.tick(after: .milliseconds(10))
            func pauseLines() -> [String] {
                handler.entries.map(\.message.description).filter { $0.contains("late (process stopped") }
            }
            for _ in 0..<50 {
                for _ in 0..<5 { manual.tick(after: .milliseconds(10)) }
                manual.tick(after: .milliseconds(300))
            }
            #expect(pauseLines().count == 1, "\(pauseLines())")
            // A minute later the next pause is said, with the count of those not said.
            for _ in 0..<600 { manual.tick(after: .milliseconds(100)) }
            manual.tick(after: .milliseconds(300))
            let lines = pauseLines()
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.last?.contains("such pauses") == true, "\(lines)")
        }

        /// A stall half-way to the threshold when the process stops, still blocked a little
        /// after it continues: the pause is not counted, so it stays under the threshold.
        @Test func stallHalfWayWhenStoppedIsNotReported() throws {
            let manual = try ManualTimeWatchdog(threshold: .milliseconds(100))
            manual.tick(after: .milliseconds(10))
            manual.heartbeat.beat()
            for _ in 0..<6 { manual.tick(after: .milliseconds(10)) }
            manual.tick(after: .milliseconds(2_010))
            for _ in 0..<2 { manual.tick(after: .milliseconds(10)) }
            manual.heartbeat.beat()
            manual.tick(after: .milliseconds(10))
            manual.flush()
            #expect(manual.events.all.isEmpty, "\(manual.events.all)")
        }

        /// A loop with a smaller threshold than the watchdog's is forgiven too: the pause is
        /// judged against the smallest threshold in force.
        @Test func pauseLongerThanALoopsOwnThresholdIsForgiven() throws {
            let manual = try ManualTimeWatchdog(threshold: .seconds(10))
            manual.heartbeat.threshold = .milliseconds(50)
            manual.tick(after: .milliseconds(5))
            manual.heartbeat.beat()
            manual.tick(after: .milliseconds(5))
            manual.tick(after: .milliseconds(500))  // a 500 ms pause: under 10 s, over 50 ms
            manual.heartbeat.beat()
            manual.tick(after: .milliseconds(5))
            manual.flush()
            #expect(manual.events.all.isEmpty, "\(manual.events.all)")
        }
    }
}
