import Glibc
import LoopWatchdog

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
}
