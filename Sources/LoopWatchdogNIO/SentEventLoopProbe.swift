import Glibc
import LoopWatchdog
import NIOCore
import NIOPosix
import Synchronization

/// The watch of one event loop whose probes the watchdog thread sends only when the loop may
/// be busy (``SentProbeLoopProber``): nothing stays scheduled on the loop, so its
/// scheduled-task heap stays empty and a loop waiting for work is never woken.
///
/// Probes from outside the loop need to know when the loop stops taking work: NIO reports
/// work given to a closed loop on standard error. So each loop gets a sentinel, a channel on
/// an eventfd that nobody writes (one descriptor, never readable, no cost per tick): a
/// shutting-down loop closes every channel first, while it still takes work, and the
/// sentinel's close future then marks the loop closing under the lock that every send takes.
/// A loop that is not a NIOPosix loop, or whose sentinel cannot be made, falls back to the
/// self-scheduling ``EventLoopProbe``.
///
/// Thread model: the sentinel's set-up and close callbacks run on the loop; `send` on the
/// watchdog thread; `start`, `stop` and `heartbeat` on any thread. The lock guards the
/// state; `execute` and `close` are called on NIO while it is held, which is safe because
/// nothing NIO calls back with its own locks held takes it.
final class SentEventLoopProbe: Sendable {
    private struct State {
        var heartbeat: LoopHeartbeat?
        var sentinel: (any Channel)?
        var fallback: EventLoopProbe?
        var stopped = false
        /// Set on the loop once NIO closed the sentinel: the loop is shutting down.
        var loopClosing = false
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

    /// The loop's heartbeat, once its thread is registered.
    var heartbeat: LoopHeartbeat? {
        state.withLock { $0.heartbeat ?? $0.fallback?.heartbeat }
    }

    /// Makes the sentinel on the loop, then registers the loop's thread there.
    func start() {
        guard NIOPipeBootstrap(validatingGroup: loop) != nil else { return useFallback() }
        guard let descriptor = SentProbeLoopProber.openSentinelDescriptor() else { return useFallback() }
        NIOPipeBootstrap(group: loop)
            .channelOption(.autoRead, value: false)
            .takingOwnershipOfDescriptor(input: descriptor)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.watch(with: channel)
                case .failure:
                    // The descriptor is still ours when the bootstrap failed.
                    close(descriptor)
                    self.useFallback()
                }
            }
    }

    /// Stops watching: the loop is unregistered at once (a stall in progress is reported as
    /// ended) and the sentinel closed, unless the loop is already closing. Idempotent.
    func stop() {
        let (heartbeat, fallback) = state.withLock { state in
            state.stopped = true
            if !state.loopClosing { state.sentinel?.close(promise: nil) }
            state.sentinel = nil
            return (state.heartbeat, state.fallback)
        }
        heartbeat?.unregister()
        fallback?.stop()
    }

    /// On the loop, once the sentinel is registered: the loop is watched from now on.
    private func watch(with sentinel: any Channel) {
        let watching = state.withLock { state in
            guard !state.stopped else { return false }
            state.sentinel = sentinel
            return true
        }
        guard watching else {
            sentinel.close(promise: nil)
            return
        }
        sentinel.closeFuture.whenComplete { _ in self.loopClosing() }
        let prober = SentProbeLoopProber { [weak self] probe in self?.send(probe) ?? false }
        let heartbeat = watchdog.registerCurrentThread(prober: prober)
        metricsDelegate?.attach(heartbeat)
        let stopped = state.withLock { state in
            state.heartbeat = heartbeat
            return state.stopped
        }
        if stopped { heartbeat.unregister() }
    }

    /// The watchdog thread's send: enqueues `probe` on the loop unless it is closing.
    private func send(_ probe: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.stopped, !state.loopClosing, let heartbeat = state.heartbeat else { return false }
            loop.execute { [metricsDelegate] in
                metricsDelegate?.attach(heartbeat)
                probe()
            }
            return true
        }
    }

    /// On the loop: NIO closed the sentinel (the loop shuts down) or `stop` did.
    private func loopClosing() {
        let heartbeat = state.withLock { state in
            state.loopClosing = true
            state.sentinel = nil
            return state.heartbeat
        }
        heartbeat?.unregister()
    }

    /// Not a NIOPosix loop, or no sentinel: the loop probes itself on a timer.
    private func useFallback() {
        let probe = EventLoopProbe(loop: loop, watchdog: watchdog, metricsDelegate: metricsDelegate)
        let stopped = state.withLock { state in
            if !state.stopped { state.fallback = probe }
            return state.stopped
        }
        if !stopped { probe.start() }
    }
}
