import LoopWatchdog
import NIOPosix

/// A `NIOEventLoopMetricsDelegate` that hands NIO's own tick measurements to the watchdog,
/// so that a stall inside task code (`execute`, `submit`, scheduled tasks, future callbacks
/// run as tasks, async code on a loop's executor) is reported with the exact duration of
/// the tick NIO measured rather than an estimate.
///
/// ```swift
/// let metrics = WatchdogMetricsDelegate()
/// let group = MultiThreadedEventLoopGroup(numberOfThreads: 4, metricsDelegate: metrics)
/// let watch = watchdog.watch(eventLoopGroup: group, metricsDelegate: metrics)
/// ```
///
/// NIO measures a tick around the tasks it runs, not around the I/O events it handles
/// before them: a `ChannelHandler` that blocks in `channelRead` runs outside any measured
/// tick, and its stall keeps the probe's estimate (start known to half a probe interval).
///
/// Thread model: `processedTick(info:)` runs on each loop thread after each tick, as NIO
/// calls it. Cost per tick: one thread-specific lookup and two stores, plus whatever the
/// chained delegate does.
public final class WatchdogMetricsDelegate: NIOEventLoopMetricsDelegate, Sendable {
    private let heartbeats = ThreadSpecificVariable<LoopHeartbeat>()
    private let next: (any NIOEventLoopMetricsDelegate)?

    /// Creates the delegate.
    /// - Parameter next: a delegate of your own that receives every tick after this one.
    public init(chainingTo next: (any NIOEventLoopMetricsDelegate)? = nil) {
        self.next = next
    }

    /// Records the tick for the loop's heartbeat, then calls the chained delegate.
    public func processedTick(info: NIOEventLoopTickInfo) {
        if let heartbeat = heartbeats.currentValue {
            if heartbeat.isUnregistered {
                heartbeats.currentValue = nil
            } else {
                heartbeat.recordTick(
                    startNanoseconds: info.startTime.uptimeNanoseconds,
                    endNanoseconds: info.endTime.uptimeNanoseconds)
            }
        }
        next?.processedTick(info: info)
    }

    /// Binds the calling loop thread's ticks to `heartbeat`. Called on the loop thread.
    func attach(_ heartbeat: LoopHeartbeat) {
        if heartbeats.currentValue !== heartbeat {
            heartbeats.currentValue = heartbeat
        }
    }
}
