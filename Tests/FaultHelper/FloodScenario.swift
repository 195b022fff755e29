import CLoopWatchdog
import Glibc
import LoopWatchdog

/// A route that blocks on every request: one loop stalls 2 ms, rests 1 ms, for `seconds`,
/// under the threshold the environment sets (1 ms in the tests), with the log (text or
/// JSON) on standard error. The result holds the loop's stalls, the reporter thread's CPU
/// over the run and the resident memory at the first stall and at the end.
enum FloodScenario {
    static func run(seconds: Int) {
        let watchdog = Watchdog.start()
        let before = HelperCounter(Int.max)
        let stalls = HelperCounter(0)
        let thread = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "flood")
            let end = lwd_monotonic_ns() + Int64(seconds) * 1_000_000_000
            var first = true
            while lwd_monotonic_ns() < end {
                heartbeat.markBusy()
                heartbeat.beat()
                helperBlockedInSleep(milliseconds: 2)
                heartbeat.markIdle()
                stalls.add()
                if first {
                    before.lower(to: ResourceFigures.now().residentKilobytes)
                    first = false
                }
                sleepMilliseconds(1)
            }
            heartbeat.unregister()
        }
        let reporterBefore = reporterCPU()
        thread.join()
        let reporterAfter = reporterCPU()
        Watchdog.stopShared()
        printResult([
            "iterations": stalls.value, "reporter_cpu_percent": Double(reporterAfter - reporterBefore) / Double(seconds),
            "resident_kb_first": before.value, "resident_kb_end": ResourceFigures.now().residentKilobytes,
        ])
    }

    /// The reporter thread's CPU time in clock ticks (hundredths of a second), or 0.
    private static func reporterCPU() -> Int {
        guard let directory = opendir("/proc/self/task") else { return 0 }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true,
                let comm = try? String(contentsOfFile: "/proc/self/task/\(name)/comm", encoding: .utf8),
                // "LoopWatchdog-rep", cut to 15 bytes by the kernel.
                comm.hasPrefix("LoopWatchdog-re"),
                let stat = try? String(contentsOfFile: "/proc/self/task/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        }
        return 0
    }
}
