import CLoopWatchdog
import Foundation
import Glibc
import Synchronization
import LoopWatchdog
import Logging

/// Outputs that fail under the host: configured by LOOP_WATCHDOG_* from the test.
enum OutputScenarios {
    /// Standard error becomes a pipe whose reader is gone (as under `... 2>&1 | head -c 10`
    /// once head exited), then a loop stalls twice: every report written to standard error
    /// fails with EPIPE. The helper must live on and exit normally.
    static func closedStandardError() {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { fail("pipe failed: \(errno)") }
        close(ends[0])
        dup2(ends[1], 2)
        close(ends[1])
        SuspensionScenarios.stalls(count: 2, milliseconds: 300)
    }

    /// Once the watchdog and the stalling thread run, the address space is limited
    /// (`ulimit -v`) to what the helper uses then plus `headroomMB`, and the loop stalls
    /// twice: symbolication must not take the host down.
    static func memoryLimit(headroomMB: Int) {
        SuspensionScenarios.stalls(count: 2, milliseconds: 300) {
            // The watchdog's start-up work (the symbol indexes, built on the reporter thread
            // with temporary allocations) is over long before: the room left is measured
            // against what the process keeps mapped.
            sleepMilliseconds(500)
            guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
                  let pages = Int(text.split(separator: " ").first ?? "")
            else { fail("cannot read /proc/self/statm") }
            let size = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
            var limit = rlimit(rlim_cur: rlim_t(size + headroomMB << 20), rlim_max: rlim_t.max)
            guard setrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0 else { fail("setrlimit: \(errno)") }
        }
    }

    /// A loop stalls once, and the helper calls exit(0) the moment the stall ends, without
    /// stopping the watchdog, while its log handler (a slow one: 200 ms a line, to standard
    /// output) still has the ended line to write: the reports queued must still be written.
    static func exitRightAfterAStall() {
        let logger = Logger(label: "LoopWatchdog", factory: { _ in SlowStandardOutputHandler() })
        let watchdog = Watchdog.start(logger: logger)
        let thread = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "staller")
            announce("READY")
            heartbeat.markBusy()
            heartbeat.beat()
            helperBlockedInSleep(milliseconds: 300)
            heartbeat.markIdle()
        }
        thread.join()
        // The ended stall is seen at the watchdog's next tick (10 ms at a 100 ms threshold).
        sleepMilliseconds(30)
        printResult(["exited": 1])
        exit(0)
    }
}

/// The first reports of a fresh process: four loops stall 40 ms apart right after the
/// watchdog started (its symbol indexes may still be building), each in another function.
/// The result holds how long each stall.began waited between its capture and its delivery
/// (delivered - stall start - blocked at capture), the longest first, and the resident memory
/// before the first stall and after the last report.
enum FirstReportScenario {
    static func run() {
        let starts = Mutex<[String: Int64]>([:])
        let lags = Mutex<[Int64]>([])
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)), environment: [:],
            onEvent: { event in
                guard event.kind == .began, let start = starts.withLock({ $0[event.loopName] }) else { return }
                let blocked = event.blocked.components
                let lag = lwd_monotonic_ns() - start - (blocked.seconds * 1_000_000_000 + blocked.attoseconds / 1_000_000_000)
                lags.withLock { $0.append(lag) }
            })
        let before = ResourceFigures.now().residentKilobytes
        watchdog.start()
        let blockers: [@Sendable (Int) -> Void] = [
            { helperBlockedInSleep(milliseconds: $0) }, { helperBlockedInSpin(milliseconds: $0) },
            { helperBlockedInSleep(milliseconds: $0 - 10) }, { helperBlockedInSpin(milliseconds: $0 - 10) },
        ]
        let threads = blockers.enumerated().map { index, block in
            HelperThread {
                let name = "first-\(index)"
                let heartbeat = watchdog.registerCurrentThread(name: name)
                sleepMilliseconds(40 * index)
                heartbeat.markBusy()
                heartbeat.beat()
                starts.withLock { $0[name] = lwd_monotonic_ns() }
                block(300)
                heartbeat.markIdle()
                heartbeat.unregister()
            }
        }
        threads.forEach { $0.join() }
        watchdog.stop()
        let waited = lags.withLock { $0 }.sorted(by: >).map { Double($0) / 1e6 }
        printResult([
            "began": waited.count, "lags_ms": waited, "resident_kb_before": before,
            "resident_kb_after": ResourceFigures.now().residentKilobytes,
        ])
    }
}

/// Writes each message to standard output, 200 ms after it was logged.
struct SlowStandardOutputHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        sleepMilliseconds(200)
        writeLine("LOG \(event.message)", to: 1)
    }
}
