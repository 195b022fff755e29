import CLoopWatchdog

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
    /// How: a probe task of each priority runs, records when it ran, and sleeps for
    /// ``probeInterval(for:)`` (a tenth of the threshold by default); the pool is starved
    /// when the probe's next run is overdue by more than the threshold. The start of a
    /// starvation is known to half a probe interval, its end exactly. Each probe also learns
    /// which threads work for the pool, so that the report can capture them; workers parked
    /// waiting for work are left out of it. Works without any runtime hook. Cost: one short
    /// job per probe interval and priority.
    ///
    /// A probe of priority `.high` also watches `Task {}` started from synchronous code on the
    /// main thread, which gets that priority; `Task.detached {}` and most server code run at
    /// `.medium`.
    ///
    /// - Parameter priorities: the pools to watch; by default every one.
    /// - Returns: the watch; call ``ConcurrencyPoolWatch/stop()`` to end it. It keeps the
    ///   watchdog alive until then.
    @discardableResult
    public func watchConcurrencyPool(
        priorities: [TaskPriority] = [.high, .medium, .low, .background]
    ) -> ConcurrencyPoolWatch {
        var probes: [ConcurrencyPoolWatch.Probe] = []
        var seen = Set<UInt8>()
        for priority in priorities where seen.insert(priority.rawValue).inserted {
            let workers = PoolWorkers()
            let heartbeat = registerPool(
                name: "swift-concurrency-pool.\(ConcurrencyPoolWatch.label(for: priority))",
                workers: workers, firstProbeDueAt: lwd_monotonic_ns())
            let task = Task.detached(priority: priority) { [self] in
                await ConcurrencyPoolWatch.runProbe(heartbeat: heartbeat, workers: workers, watchdog: self)
            }
            probes.append(ConcurrencyPoolWatch.Probe(heartbeat: heartbeat, task: task))
        }
        return ConcurrencyPoolWatch(probes: probes)
    }
}

/// A running watch of the Swift Concurrency pools, returned by
/// ``Watchdog/watchConcurrencyPool(priorities:)``.
///
/// Thread model: one probe task per priority, each running on that priority's pool, one run
/// after the other; `stop()` may be called from any thread.
public final class ConcurrencyPoolWatch: Sendable {
    struct Probe: Sendable {
        var heartbeat: LoopHeartbeat
        var task: Task<Void, Never>
    }

    private let probes: [Probe]

    init(probes: [Probe]) {
        self.probes = probes
    }

    /// The names of the watched pools, as their events carry them in `loopName`.
    public var poolNames: [String] { probes.map(\.heartbeat.name) }

    /// Stops watching: cancels every probe task and unregisters the pools; a starvation in
    /// progress is reported as ended. Idempotent.
    public func stop() {
        for probe in probes {
            probe.task.cancel()
            probe.heartbeat.unregister()
        }
    }

    /// The probe of one pool: records each run and sleeps for the probe interval, until
    /// cancelled or unregistered.
    static func runProbe(heartbeat: LoopHeartbeat, workers: PoolWorkers, watchdog: Watchdog) async {
        while !Task.isCancelled && !heartbeat.isUnregistered {
            workers.noteCurrentThread()
            let period = watchdog.probeInterval(for: heartbeat)
            heartbeat.probeRan(nextDueIn: period)
            do {
                try await Task.sleep(nanoseconds: UInt64(period.clampedNanoseconds))
            } catch {
                return
            }
        }
    }

    /// `high`, `medium`, `low`, `background`, or `priority-N` for another raw value.
    static func label(for priority: TaskPriority) -> String {
        switch priority {
        case .high: "high"
        case .medium: "medium"
        case .low: "low"
        case .background: "background"
        default: "priority-\(priority.rawValue)"
        }
    }
}
