import BenchSupport
import Glibc
import LoopWatchdog

/// The watchdog thread's own CPU time while every watched loop is idle (marked idle and
/// parked in a read that never returns until the end): the cost of leaving the watchdog on
/// in a quiet process. Read through the thread's CPU clock, in nanoseconds.
enum IdleBenchmark {
    static func run(loopCounts: [Int], seconds: Double) {
        for loops in loopCounts {
            measure(loops: loops, seconds: seconds)
        }
    }

    private static func measure(loops: Int, seconds: Double) {
        let watchdog = Watchdog.quiet()
        var pipeEnds: [Int32] = [0, 0]
        precondition(pipe(&pipeEnds) == 0)
        let readEnd = pipeEnds[0]
        let threads = (0..<loops).map { index in
            BenchThread(name: "bench-idle-\(index)") {
                let heartbeat = watchdog.registerCurrentThread(name: "idle-\(index)")
                heartbeat.markIdle()
                var byte: UInt8 = 0
                _ = read(readEnd, &byte, 1)  // returns 0 when the write end is closed
                heartbeat.unregister()
            }
        }
        watchdog.start()
        sleepInKernel(nanoseconds: 300_000_000)  // every loop registered and seen once
        guard let tid = ThreadCPUTime.threadID(named: "LoopWatchdog"),
            let cpuStart = ThreadCPUTime.nanoseconds(threadID: tid)
        else {
            ResultTable.row("idle watchdog, \(loops) loops", "watchdog thread not found")
            return
        }
        let wallStart = monotonicNanoseconds()
        sleepInKernel(nanoseconds: Int64(seconds * 1e9))
        let cpu = (ThreadCPUTime.nanoseconds(threadID: tid) ?? cpuStart) - cpuStart
        let wall = monotonicNanoseconds() - wallStart
        watchdog.stop()
        close(pipeEnds[1])
        for thread in threads { thread.join() }
        close(readEnd)
        let percent = Double(cpu) / Double(wall) * 100
        let perSecond = Double(cpu) / (Double(wall) / 1e9) / 1e3
        ResultTable.row(
            "idle watchdog, \(loops) idle loop\(loops == 1 ? "" : "s") (100 ms threshold, 10 ms interval): watchdog thread CPU",
            "\(percent.formatted(3)) % of one core (\(perSecond.formatted(0)) µs per second)",
            target: loops == 64 ? "≤ 0.1 %" : "-",
            loops == 64 ? ResultTable.verdict(percent <= 0.1) : .info)
    }
}
