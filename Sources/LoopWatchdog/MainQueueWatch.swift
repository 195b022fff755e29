import CLoopWatchdog
import Dispatch
import Synchronization

extension Watchdog {
    /// Watches the Dispatch main queue, and so the `@MainActor` executor: reports when a
    /// block on the main queue, `@MainActor` code, or the main thread between two of them
    /// blocks it past the threshold, with the stack of the thread draining it (the main
    /// thread, or after `dispatchMain()` and in programs with an async `main` the dispatch
    /// worker that drains the main queue once the main thread exited).
    ///
    /// ```swift
    /// let watchdog = Watchdog.start()
    /// let mainWatch = watchdog.watchMainQueue()
    /// ```
    ///
    /// How: a probe block on the main queue records when it ran and schedules the next one
    /// after ``probeInterval(for:)`` with `DispatchQueue.main.asyncAfter`. The thread that
    /// drains the queue is registered by the first probe, on that thread itself, and again
    /// when another thread takes over. Nothing is watched before
    /// the main queue runs that first probe: a program that never drains the main queue (a
    /// synchronous `main` that neither returns to `dispatchMain()` nor runs a run loop) is
    /// never reported, since a queue that is never drained is not blocked. Once the first
    /// probe ran, a main thread that stops draining the queue for longer than the threshold
    /// is reported, whatever it is doing.
    ///
    /// Call it once: a second watch probes and reports the queue twice. When the watchdog is
    /// disabled (`LOOP_WATCHDOG=off`) nothing is scheduled.
    ///
    /// - Parameter name: the loop name in reports, `main-queue` by default.
    /// - Returns: the watch; call ``MainQueueWatch/stop()`` to end it. It keeps the watchdog
    ///   alive until then.
    @discardableResult
    public func watchMainQueue(name: String = "main-queue") -> MainQueueWatch {
        let watch = MainQueueWatch(watchdog: self, name: name)
        // Disabled (`LOOP_WATCHDOG=off`): the main queue runs no probe.
        if isEnabled {
            DispatchQueue.main.async { watch.probe() }
        }
        return watch
    }
}

/// A running watch of the Dispatch main queue, returned by ``Watchdog/watchMainQueue(name:)``.
///
/// Thread model: probes run on the main thread, one after the other; `stop()` may be called
/// from any thread. The lock guards the heartbeat and the stopped flag.
public final class MainQueueWatch: Sendable {
    private struct State {
        var heartbeat: LoopHeartbeat?
        var stopped = false
    }

    private let watchdog: Watchdog
    private let name: String
    private let state = Mutex(State())

    init(watchdog: Watchdog, name: String) {
        self.watchdog = watchdog
        self.name = name
    }

    /// True once the main queue ran the first probe and its thread is watched.
    public var isWatching: Bool {
        state.withLock { $0.heartbeat != nil && !$0.stopped }
    }

    /// Stops watching: the queue's thread is unregistered at once (a stall in progress is
    /// reported as ended) and the next probe does not schedule another. Idempotent.
    public func stop() {
        let heartbeat = state.withLock { state in
            state.stopped = true
            return state.heartbeat
        }
        heartbeat?.unregister()
    }

    /// One probe, on the thread draining the main queue: registers that thread the first
    /// time, and again whenever another thread drains the queue, then records the run and
    /// schedules the next.
    ///
    /// The main queue is not always drained by the main thread: after `dispatchMain()`, and
    /// so in every program with an async `main`, the main thread exits and dispatch drains
    /// the main queue on one of its worker threads, which may change when the queue was
    /// idle. A change can only happen between two probes of an unblocked queue (a serial
    /// queue keeps draining on the same thread while it has work), so no stall is lost.
    func probe() {
        let tid = lwd_gettid()
        let heartbeat: LoopHeartbeat? = state.withLock { state in
            guard !state.stopped else { return nil }
            if let current = state.heartbeat, !current.isUnregistered, current.threadID == tid {
                return current
            }
            state.heartbeat?.unregister()
            let registered = watchdog.registerCurrentThread(name: name)
            state.heartbeat = registered
            return registered
        }
        guard let heartbeat else { return }
        let period = watchdog.probeInterval(for: heartbeat)
        heartbeat.probeRan(nextDueIn: period)
        DispatchQueue.main.asyncAfter(deadline: .now() + .nanoseconds(Int(period.clampedNanoseconds))) {
            self.probe()
        }
    }
}
