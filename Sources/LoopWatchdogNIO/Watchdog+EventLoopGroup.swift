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
    /// How: each loop first gets a sentinel channel (an eventfd nobody writes: one
    /// descriptor, never readable) and registers its own thread with the watchdog. Then the
    /// watchdog thread looks at each loop at every tick: a loop waiting in `epoll_wait` (or
    /// whose thread has not run since it was) is waiting for work, and costs nothing; a loop
    /// that runs is sent a probe with `execute`, which records when it ran. A busy loop runs
    /// it among its other work, and nothing stays scheduled on it (NIO runs every task
    /// slower while a timer is pending); a blocked loop cannot run it, and once it is overdue
    /// by the threshold the stall is reported with the stack. The stall's end is exact (when
    /// the late probe runs); its start is exact for a loop found on a CPU (its CPU clock
    /// says when it woke), else known to half a watchdog interval (to a quarter of the
    /// threshold when the whole process was idle before); with `metricsDelegate` a stall
    /// inside a task is dated from the start of the tick NIO measured, exactly.
    ///
    /// A loop that shuts down while watched stops being watched, quietly: NIO closes the
    /// sentinel first, and no probe is sent after that. Watching a group that has already
    /// shut down makes NIO print that it cannot schedule tasks. Watch a group once: a second
    /// watch probes and reports its loops twice. A loop that is not a NIOPosix loop is
    /// probed on a timer of its own instead. When the watchdog is disabled
    /// (`LOOP_WATCHDOG=off`) nothing is scheduled and the watch is empty.
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
        var probes: [SentEventLoopProbe] = []
        for loop in group.makeIterator() {
            let probe = SentEventLoopProbe(loop: loop, watchdog: self, metricsDelegate: metricsDelegate)
            probe.start()
            probes.append(probe)
        }
        return EventLoopGroupWatch(probes: probes)
    }
}
