import LoopWatchdog
import NIOCore
import Synchronization

/// The probe of one watched event loop: a scheduled callback that registers the loop's
/// thread on its first run, records every run with ``LoopHeartbeat/probeRan(nextDueIn:)`` and
/// schedules the next one.
///
/// Thread model: `handleScheduledCallback` runs on the loop; `didCancelScheduledCallback`
/// on the loop (shutdown) or on the thread that cancels; `start`, `stop` and `heartbeat` on
/// any thread. The lock guards the state; nothing is called on NIO while holding it.
final class EventLoopProbe: NIOScheduledCallbackHandler, Sendable {
    private struct State {
        var heartbeat: LoopHeartbeat?
        var scheduled: NIOScheduledCallback?
        /// Counts schedules, so that a slow `schedule` never overwrites a newer handle.
        var generation: UInt64 = 0
        var stopped = false
    }

    private let loop: any EventLoop
    private let watchdog: Watchdog
    private let metricsDelegate: WatchdogMetricsDelegate?
    private let state = Mutex(State())

    init(loop: any EventLoop, watchdog: Watchdog, metricsDelegate: WatchdogMetricsDelegate?) {
        self.loop = loop
        self.watchdog = watchdog
        self.metricsDelegate = metricsDelegate
    }

    /// The loop's heartbeat, once the first probe registered the loop's thread.
    var heartbeat: LoopHeartbeat? { state.withLock { $0.heartbeat } }

    /// Schedules the first probe, to run as soon as the loop can.
    func start() {
        schedule(at: .now())
    }

    /// Cancels the pending probe and unregisters the loop. Does not touch the loop if
    /// nothing is pending, so it is quiet after a shutdown.
    func stop() {
        let (heartbeat, scheduled) = state.withLock { state in
            state.stopped = true
            defer { state.scheduled = nil }
            return (state.heartbeat, state.scheduled)
        }
        scheduled?.cancel()
        heartbeat?.unregister()
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        let heartbeat: LoopHeartbeat? = state.withLock { state in
            guard !state.stopped else { return nil }
            if let heartbeat = state.heartbeat { return heartbeat }
            let registered = watchdog.registerCurrentThread()
            state.heartbeat = registered
            return registered
        }
        guard let heartbeat else {
            self.heartbeat?.unregister()
            return
        }
        metricsDelegate?.attach(heartbeat)
        let period = watchdog.probeInterval(for: heartbeat)
        heartbeat.probeRan(nextDueIn: period)
        schedule(at: .now() + .nanoseconds(period.nanosecondsForNIO))
    }

    /// Cancelled by ``stop()`` or because the loop shut down: stop watching it.
    func didCancelScheduledCallback(eventLoop: some EventLoop) {
        let heartbeat = state.withLock { state in
            state.stopped = true
            state.scheduled = nil
            return state.heartbeat
        }
        heartbeat?.unregister()
    }

    private func schedule(at deadline: NIODeadline) {
        let generation = state.withLock { state in
            state.generation += 1
            return state.generation
        }
        do {
            let scheduled = try loop.scheduleCallback(at: deadline, handler: self)
            state.withLock { state in
                // The callback may already have run and scheduled the next one.
                if state.generation == generation { state.scheduled = scheduled }
            }
        } catch {
            // The loop refused (it is shutting down): there is nothing left to watch.
            didCancelScheduledCallback(eventLoop: loop)
        }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to 1 ... Int64.max, for NIO's `TimeAmount`.
    var nanosecondsForNIO: Int64 {
        let (seconds, attoseconds) = components
        if seconds >= Int64.max / 1_000_000_000 { return Int64.max }
        return max(seconds * 1_000_000_000 + attoseconds / 1_000_000_000, 1)
    }
}
