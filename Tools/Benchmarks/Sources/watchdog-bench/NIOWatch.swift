import LoopWatchdog
import LoopWatchdogNIO
import NIOCore

/// The one place the benchmarks switch the watchdog on for NIO: `LoopWatchdogNIO`'s one
/// call, `watchdog.watch(eventLoopGroup:)`, exactly as an application would.
struct NIOWatch {
    private let watch: EventLoopGroupWatch

    /// Watches every loop of `group` with `watchdog`.
    static func watch(_ group: any EventLoopGroup, with watchdog: Watchdog) throws -> NIOWatch {
        NIOWatch(watch: watchdog.watch(eventLoopGroup: group))
    }

    /// Stops the probes and unregisters the loops.
    func stop() throws {
        watch.stop()
    }
}
