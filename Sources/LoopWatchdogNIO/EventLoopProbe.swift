import LoopWatchdog
import NIOCore
import Synchronization

/// The probe of one watched event loop: a scheduled callback that runs the shared
/// ``SelfSchedulingProbe`` (which registers the loop's thread on its first run and records
/// every run) and schedules the next one.
///
/// Thread model: `handleScheduledCallback` runs on the loop; `didCancelScheduledCallback`
/// on the loop (shutdown) or on the thread that cancels; `start`, `stop` and `heartbeat` on
/// any thread. The lock guards the scheduled handle; nothing is called on NIO while holding it.
final class EventLoopProbe: NIOScheduledCallbackHandler, Sendable {
    private struct Scheduling {
        var scheduled: NIOScheduledCallback?
        /// Counts schedules, so that a slow `schedule` never overwrites a newer handle.
        var generation: UInt64 = 0
    }

    private let loop: any EventLoop
    private let probe: SelfSchedulingProbe
    private let metricsDelegate: WatchdogMetricsDelegate?
    private let scheduling = Mutex(Scheduling())

    init(loop: any EventLoop, watchdog: Watchdog, metricsDelegate: WatchdogMetricsDelegate?) {
        self.loop = loop
        self.probe = SelfSchedulingProbe(watchdog: watchdog, name: nil)
        self.metricsDelegate = metricsDelegate
    }

    /// The loop's heartbeat, once the first probe registered the loop's thread.
    var heartbeat: LoopHeartbeat? { probe.heartbeat }

    /// Schedules the first probe, to run as soon as the loop can.
    func start() {
        schedule(at: .now())
    }

    /// Cancels the pending probe and unregisters the loop. Does not touch the loop if
    /// nothing is pending, so it is quiet after a shutdown.
    func stop() {
        probe.stop()
        let scheduled = scheduling.withLock { state in
            defer { state.scheduled = nil }
            return state.scheduled
        }
        scheduled?.cancel()
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        guard let (heartbeat, period) = probe.run() else { return }
        metricsDelegate?.attach(heartbeat)
        schedule(at: .now() + .nanoseconds(max(period.clampedNanoseconds, 1)))
    }

    /// Cancelled by ``stop()`` or because the loop shut down: stop watching it.
    func didCancelScheduledCallback(eventLoop: some EventLoop) {
        scheduling.withLock { $0.scheduled = nil }
        probe.stop()
    }

    private func schedule(at deadline: NIODeadline) {
        let generation = scheduling.withLock { state in
            state.generation += 1
            return state.generation
        }
        do {
            let scheduled = try loop.scheduleCallback(at: deadline, handler: self)
            scheduling.withLock { state in
                // The callback may already have run and scheduled the next one.
                if state.generation == generation { state.scheduled = scheduled }
            }
        } catch {
            // The loop refused (it is shutting down): there is nothing left to watch.
            didCancelScheduledCallback(eventLoop: loop)
        }
    }
}
