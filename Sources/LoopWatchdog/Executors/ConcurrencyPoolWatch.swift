extension Watchdog {
    /// Watches the Swift Concurrency global executor: reports when its pool is starved, that
    /// is, when new work waits longer than the threshold before a worker thread runs it, with
    /// the stacks of the busy workers. Then reports `ended` with how long new work waited.
    ///
    /// ```swift
    /// let watchdog = Watchdog.start()
    /// let poolWatch = watchdog.watchConcurrencyPool()
    /// ```
    ///
    /// On Linux the pool has a fixed width (one thread per core) for each priority, and a
    /// thread blocked in a synchronous call is not replaced: a few blocking calls inside
    /// async functions freeze every task of that priority without a message. Each priority
    /// in `priorities` has a pool of its own (dispatch's global queue of that QoS, which
    /// `DispatchQueue.global(qos:)` work shares) and is watched as one loop named
    /// `swift-concurrency-pool.<priority>`, for example `swift-concurrency-pool.medium`.
    ///
    /// How: at each of its ticks the watchdog thread starts a tiny probe task of each
    /// priority, unless the previous one has not run yet or no worker of that pool has run
    /// since it answered (their CPU clocks say so: a pool at rest is not probed); the probe
    /// records when it ran. The pool is starved when a probe waits for a worker longer than
    /// the threshold. The start of a starvation is known to half the watchdog's interval, its
    /// end exactly. Probes are enqueued directly, not woken by `Task.sleep`, whose timers need
    /// a free worker of the default pool on Linux. Each probe also learns which threads work
    /// for its pool, so that a report can capture them; workers parked waiting for work are
    /// left out. Works without any runtime hook. Cost: at most one tiny task per watchdog
    /// interval and priority while the pool works, none while it rests.
    ///
    /// `Task {}` started from synchronous code on the main thread runs at `.high`;
    /// `Task.detached {}` and most server code run at `.medium`. Call it once: a second
    /// watch probes and reports the pools twice. Probes are started by the watchdog thread,
    /// so nothing runs while the watchdog is stopped or disabled.
    ///
    /// With `jobs` (the default), every job is watched too: a worker thread that runs one
    /// job longer than the threshold is reported as a stall of its own, while it blocks,
    /// with that worker's stack, its thread id, the job's priority and how many workers of
    /// that priority are blocked (``StallEvent/job``), then ended with the job's exact
    /// duration. This is what catches one blocking call in an async request handler, which
    /// takes one worker of N and never starves the pool. How: the runtime's global-enqueue
    /// hooks run each job on a concurrent dispatch queue of its priority made as the
    /// runtime makes its own (one per priority, as wide as the machine has CPUs), between a
    /// busy and an idle mark (two clock reads and a few stores per job). When another hook
    /// already owns the global executor (SwiftNIO's
    /// `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`, which must
    /// then be called first), jobs go on to it and run on its event loops, which
    /// `watch(eventLoopGroup:)` watches. ``ConcurrencyPoolWatch/stop()`` puts the hooks
    /// back. Jobs of actors with custom executors, of task executor preferences and of the
    /// main actor do not go through the global executor and are not watched job by job.
    ///
    /// - Parameters:
    ///   - priorities: the pools to watch for starvation; by default every one.
    ///   - jobs: whether each job of the global executor is watched too; by default true.
    /// - Returns: the watch; call ``ConcurrencyPoolWatch/stop()`` to end it.
    @discardableResult
    public func watchConcurrencyPool(
        priorities: [TaskPriority] = [.high, .medium, .low, .background],
        jobs: Bool = true
    ) -> ConcurrencyPoolWatch {
        var heartbeats: [LoopHeartbeat] = []
        var seen = Set<UInt8>()
        for priority in priorities where seen.insert(priority.rawValue).inserted {
            let workers = PoolWorkers()
            heartbeats.append(registerPool(
                name: "swift-concurrency-pool.\(ConcurrencyPoolProber.label(for: priority))",
                workers: workers,
                prober: ConcurrencyPoolProber(priority: priority, workers: workers)))
        }
        if jobs, isEnabled, let reason = PoolJobWatch.unavailableReason {
            logger.warning(
                "LoopWatchdog cannot watch the Swift Concurrency pool's jobs one by one: \(reason); the pools are watched for starvation only")
        }
        let watchesJobs = jobs && isEnabled && isInOwnerProcess && PoolJobWatch.start(watchdog: self)
        return ConcurrencyPoolWatch(heartbeats: heartbeats, watchdog: self, watchesJobs: watchesJobs)
    }
}

/// A running watch of the Swift Concurrency pools, returned by
/// ``Watchdog/watchConcurrencyPool(priorities:jobs:)``. `stop()` may be called from any thread.
public final class ConcurrencyPoolWatch: Sendable {
    let heartbeats: [LoopHeartbeat]
    private let watchdog: Watchdog
    /// True when every job of the global executor is watched (see `jobs`).
    public let watchesJobs: Bool

    init(heartbeats: [LoopHeartbeat], watchdog: Watchdog, watchesJobs: Bool) {
        self.heartbeats = heartbeats
        self.watchdog = watchdog
        self.watchesJobs = watchesJobs
    }

    /// The names of the watched pools, as their events carry them in `loopName`.
    public var poolNames: [String] { heartbeats.map(\.name) }

    /// Stops watching: no probe is started any more and the pools are unregistered; a
    /// starvation in progress is reported as ended; the job watch puts the runtime's hooks
    /// back. Idempotent.
    public func stop() {
        PoolJobWatch.stop(watchdog: watchdog)
        for heartbeat in heartbeats {
            heartbeat.unregister()
        }
    }
}
