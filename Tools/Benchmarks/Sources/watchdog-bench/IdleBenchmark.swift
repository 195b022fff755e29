import BenchSupport
import Glibc
import LoopWatchdog

/// The watchdog thread's own CPU time in a quiet process, read through the thread's CPU
/// clock, in nanoseconds:
/// - idle loops: each marked idle and waiting in a read that returns only at the end;
/// - probed loops: each waiting without marking itself idle and beating every quarter of
///   the threshold, as a loop that cannot mark itself idle does; the watchdog then keeps
///   ticking every interval.
///
/// Then an idle application (``IdleApplicationBenchmark``): the whole process's CPU with its
/// NIO loops and the Concurrency pool watched, against the same process unwatched.
enum IdleBenchmark {
    static func run(loopCounts: [Int], seconds: Double) {
        for loops in loopCounts {
            measure(loops: loops, probed: false, seconds: seconds)
        }
        if let most = loopCounts.max() {
            measure(loops: most, probed: true, seconds: seconds)
        }
        IdleApplicationBenchmark.run(seconds: seconds)
    }

    private static func measure(loops: Int, probed: Bool, seconds: Double) {
        let watchdog = Watchdog.quiet()
        var pipeEnds: [Int32] = [0, 0]
        precondition(pipe(&pipeEnds) == 0)
        let readEnd = pipeEnds[0]
        let threads = (0..<loops).map { index in
            BenchThread(name: "bench-idle-\(index)") {
                let heartbeat = watchdog.registerCurrentThread(name: "idle-\(index)")
                if probed {
                    // A probe's beat every 25 ms until the write end is closed.
                    var waiting = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                    while poll(&waiting, 1, 25) == 0 { heartbeat.beat() }
                } else {
                    heartbeat.markIdle()
                    var byte: UInt8 = 0
                    _ = read(readEnd, &byte, 1)  // returns 0 when the write end is closed
                }
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
        let result = "\(percent.formatted(3)) % of one core (\(perSecond.formatted(0)) µs per second)"
        let loopsText = "\(loops) \(probed ? "probed" : "idle") loop\(loops == 1 ? "" : "s")"
        let measurement = "idle watchdog, \(loopsText) (100 ms threshold, 10 ms interval): watchdog thread CPU"
        if loops == 64 && !probed {
            ResultTable.row(measurement, result, target: "≤ 0.1 %", ResultTable.verdict(percent <= 0.1))
        } else {
            ResultTable.row(measurement, result)
        }
    }
}
