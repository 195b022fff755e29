import Foundation
import Glibc
import Testing

extension FaultSuite {
    /// A debugger or tracer attached: under `LOOP_WATCHDOG_WHEN_TRACED=suppress` (the
    /// default) no stall is reported and one info line says why; under `report` they are.
    /// The tracer is real: the helper runs under `strace -f` (scripts/setup.sh installs it).
    @Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs /usr/bin/strace (scripts/setup.sh installs it)"))
    struct TracerTests {
        private func runTraced(policy: String?) async throws -> (events: [String], stderr: String) {
            let output = "\(NSTemporaryDirectory())lwd-traced-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
            defer { unlink(output) }
            var environment = [
            "LOOP_WATCHDOG_FORMAT": "json", "LOOP_WATCHDOG_OUTPUT": output, "LOOP_WATCHDOG_THRESHOLD": "100ms",
            // Three stalls of one site: each one logged, not counted.
            "LOOP_WATCHDOG_REPEATS": "all",
            // LeakSanitizer cannot run under ptrace; without AddressSanitizer this is unused.
            "ASAN_OPTIONS": "detect_leaks=0",
        ]
            if let policy { environment["LOOP_WATCHDOG_WHEN_TRACED"] = policy }
            let child = try ChildProcess(
                "/usr/bin/strace", ["-f", "-qq", "-o", "/dev/null", "--", ChildProcess.helper, "stalls", "3", "400"],
                environment: environment)
            let status = try await child.waitForExit(timeout: .seconds(120))
            try #require(status == 0, "\(child.standardError.suffix(2_000))")
            let events = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            return (events, child.standardError)
        }

        @Test func stallsAreSuppressedWhileTracedWithOneInfoLine() async throws {
            let (events, stderr) = try await runTraced(policy: nil)
            #expect(events.isEmpty, "\(events)")
            let notices = stderr.split(separator: "\n").filter { $0.contains("tracer (pid") }
            #expect(notices.count == 1, "\(stderr.suffix(2_000))")
        }

        @Test func stallsAreReportedWhileTracedWhenAskedTo() async throws {
            let (events, stderr) = try await runTraced(policy: "report")
            #expect(events.filter { $0.contains("\"stall.began\"") }.count == 3, "\(events)")
            #expect(events.filter { $0.contains("\"stall.ended\"") }.count == 3, "\(events)")
            #expect(events.first?.contains("helperBlockedInSleep") == true, "\(events)")
            #expect(!stderr.contains("tracer (pid"))
        }
    }
}
