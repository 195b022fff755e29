import Dispatch

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
/// Thread model: probes run on the thread draining the main queue, one after the other;
/// `stop()` may be called from any thread.
public final class MainQueueWatch: Sendable {
    private let probeState: SelfSchedulingProbe

    init(watchdog: Watchdog, name: String) {
        self.probeState = SelfSchedulingProbe(watchdog: watchdog, name: name)
    }

    /// True once the main queue ran the first probe and its thread is watched.
    public var isWatching: Bool { probeState.isWatching }

    /// Stops watching: the queue's thread is unregistered at once (a stall in progress is
    /// reported as ended) and the next probe does not schedule another. Idempotent.
    public func stop() {
        probeState.stop()
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
        guard let (_, period) = probeState.run() else { return }
        DispatchQueue.main.asyncAfter(deadline: .now() + .nanoseconds(Int(period.clampedNanoseconds))) {
            self.probe()
        }
    }
}
