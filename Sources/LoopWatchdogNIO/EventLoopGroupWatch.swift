import LoopWatchdog

/// A running watch of an `EventLoopGroup`, returned by
/// ``LoopWatchdog/Watchdog/watch(eventLoopGroup:metricsDelegate:)``.
///
/// Thread model: each loop's probe runs on that loop (sent by the watchdog thread); `stop()` and the properties may be
/// used from any thread.
public final class EventLoopGroupWatch: Sendable {
    private let probes: [SentEventLoopProbe]

    init(probes: [SentEventLoopProbe]) {
        self.probes = probes
    }

    /// How many loops the watch covers.
    public var loopCount: Int { probes.count }

    /// The heartbeats of the loops whose threads are registered so far, one per loop once
    /// each loop ran its first probe. Their `name` is the loop thread's name and their
    /// `threadID` its Linux thread id, as reports show them.
    public var loops: [LoopHeartbeat] { probes.compactMap(\.heartbeat) }

    /// Stops watching: unregisters every loop (a stall in progress is reported as ended) and
    /// closes each loop's sentinel channel, unless the loop is already shutting down, so it is
    /// safe after the group shut down. Idempotent.
    public func stop() {
        for probe in probes {
            probe.stop()
        }
    }
}
