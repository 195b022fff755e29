import CLoopWatchdog
import Synchronization

/// The part that every executor watched by a self-scheduling probe shares (the Dispatch main
/// queue, SwiftNIO event loops): each run, on the executor's own thread, registers that
/// thread the first time (and again when another thread runs the probe), records the run
/// with ``LoopHeartbeat/probeRan(nextDueIn:)`` and tells the caller when to schedule the
/// next one. The caller owns the scheduling.
///
/// Thread model: `run` on the executor, one run after the other; `stop`, `heartbeat` and
/// `isWatching` on any thread. The lock guards the heartbeat and the stopped flag; nothing
/// is called on the executor while holding it.
package final class SelfSchedulingProbe: Sendable {
    private struct State {
        var heartbeat: LoopHeartbeat?
        var stopped = false
    }

    private let watchdog: Watchdog
    /// The loop name, or nil to name the loop after its thread.
    private let name: String?
    private let state = Mutex(State())

    /// A probe for `watchdog`; `name` nil names the loop after the thread that runs it.
    package init(watchdog: Watchdog, name: String?) {
        self.watchdog = watchdog
        self.name = name
    }

    /// The heartbeat of the thread that ran the last probe, once one ran.
    package var heartbeat: LoopHeartbeat? { state.withLock { $0.heartbeat } }

    /// True once a probe ran and the watch was not stopped.
    package var isWatching: Bool { state.withLock { $0.heartbeat != nil && !$0.stopped } }

    /// One probe, on the executor's thread. Returns the heartbeat and the delay until the
    /// next probe, or nil once stopped (schedule nothing then).
    package func run() -> (heartbeat: LoopHeartbeat, next: Duration)? {
        let tid = lwd_gettid()
        let heartbeat: LoopHeartbeat? = state.withLock { state in
            guard !state.stopped else { return nil }
            if let current = state.heartbeat, !current.isUnregistered, current.threadID == tid {
                return current
            }
            state.heartbeat?.unregister()
            let registered = name.map { watchdog.registerCurrentThread(name: $0) } ?? watchdog.registerCurrentThread()
            state.heartbeat = registered
            return registered
        }
        guard let heartbeat else { return nil }
        let period = watchdog.probeInterval(for: heartbeat)
        heartbeat.probeRan(nextDueIn: period)
        return (heartbeat, period)
    }

    /// Stops the watch: the thread is unregistered at once (a stall in progress is reported
    /// as ended) and the next run schedules nothing. Idempotent.
    package func stop() {
        let heartbeat = state.withLock { state in
            state.stopped = true
            return state.heartbeat
        }
        heartbeat?.unregister()
    }
}
