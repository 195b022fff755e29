import LoopWatchdog
import NIOCore

extension Watchdog {
    /// Watches every event loop of `group` without touching its channels or handlers: code
    /// that blocks a loop (a synchronous call in a `ChannelHandler`, a task, a future
    /// callback) is reported while it blocks, with the loop thread's stack, and then with the
    /// blocked duration.
    ///
    /// ```swift
    /// let watchdog = Watchdog.start()
    /// let watch = watchdog.watch(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    /// // ... serve ...
    /// watch.stop()
    /// ```
    ///
    /// Works with any `EventLoopGroup`, the shared singleton included. Each loop is named
    /// after its thread (`NIO-ELT-0-#1`, `NIO-SGLTN-0-#0`).
    ///
    /// How: a probe callback is scheduled on each loop every `probeInterval(for:)` (a tenth
    /// of the threshold by default). Its first run registers the loop's own thread with the
    /// watchdog; every run records that the loop is answering. An idle loop wakes once per
    /// probe interval to run it and is never reported; a busy loop runs it among its other
    /// work; a blocked loop cannot run it, and once it is overdue by the threshold the stall
    /// is reported with the stack. The stall's start is known to half a probe interval and
    /// its end exactly (when the late probe runs); with `metricsDelegate` a stall inside a
    /// task is dated from the start of the tick NIO measured, exactly.
    ///
    /// A loop that shuts down while watched stops being watched, quietly. Watching a group
    /// that has already shut down makes NIO print that it cannot schedule tasks. Watch a
    /// group once: a second watch probes and reports its loops twice. When the watchdog is
    /// disabled (`LOOP_WATCHDOG=off`) nothing is scheduled and the watch is empty.
    ///
    /// - Parameters:
    ///   - group: the group whose loops to watch.
    ///   - metricsDelegate: the delegate `group` was created with
    ///     (`MultiThreadedEventLoopGroup(numberOfThreads:metricsDelegate:)`), if any, so that
    ///     the stalls of task code carry the exact tick duration NIO measured.
    /// - Returns: the watch; call ``EventLoopGroupWatch/stop()`` to end it. It keeps the
    ///   watchdog alive until then.
    @discardableResult
    public func watch(
        eventLoopGroup group: any EventLoopGroup,
        metricsDelegate: WatchdogMetricsDelegate? = nil
    ) -> EventLoopGroupWatch {
        // Disabled (`LOOP_WATCHDOG=off`): no probe costs the loops anything.
        guard isEnabled else { return EventLoopGroupWatch(probes: []) }
        var probes: [EventLoopProbe] = []
        for loop in group.makeIterator() {
            let probe = EventLoopProbe(loop: loop, watchdog: self, metricsDelegate: metricsDelegate)
            probe.start()
            probes.append(probe)
        }
        return EventLoopGroupWatch(probes: probes)
    }
}
