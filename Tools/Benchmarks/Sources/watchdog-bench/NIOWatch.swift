import LoopWatchdog
import NIOCore

/// Watches every loop of an EventLoopGroup the way the coming `LoopWatchdogNIO` module will:
/// each loop thread registers itself (inside `submit`, so the registration names the loop's
/// own thread) and a repeated probe task beats every quarter of the threshold, so a loop
/// waiting in epoll is never reported and a loop that misses its probe is.
///
/// The one place the benchmarks switch the watchdog on for NIO: once `LoopWatchdogNIO`
/// exists, the body of ``watch(_:with:)`` becomes its one call.
struct NIOWatch {
    private let probes: [(loop: any EventLoop, heartbeat: LoopHeartbeat, task: RepeatedTask)]

    /// Registers every loop of `group` with `watchdog` and starts the probes.
    static func watch(_ group: any EventLoopGroup, with watchdog: Watchdog) throws -> NIOWatch {
        let delay = TimeAmount.nanoseconds(nanoseconds(watchdog.threshold) / 4)
        var probes: [(any EventLoop, LoopHeartbeat, RepeatedTask)] = []
        for loop in group.makeIterator() {
            let heartbeat = try loop.submit {
                watchdog.registerCurrentThread(name: "NIO loop")
            }.wait()
            let task = loop.scheduleRepeatedTask(initialDelay: delay, delay: delay) { _ in
                heartbeat.beat()
            }
            probes.append((loop, heartbeat, task))
        }
        return NIOWatch(probes: probes)
    }

    /// Stops the probes and unregisters the loops.
    func stop() throws {
        for probe in probes {
            probe.task.cancel()
            try probe.loop.submit { probe.heartbeat.unregister() }.wait()
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
