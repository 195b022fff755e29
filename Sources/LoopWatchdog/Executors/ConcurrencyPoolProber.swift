import CLoopWatchdog

/// Probes one priority of the Swift Concurrency pool from the watchdog thread: at each
/// tick, unless the previous probe is still waiting for a worker, it marks a new probe due
/// now and starts a detached task of that priority that records when it ran and which
/// thread ran it. The record's probe state is `.answered` while no probe is waiting
/// (answered, or none sent yet) and `.due(at:)` the time the waiting probe was sent otherwise.
///
/// A pool at rest is not probed: once a probe has answered, the CPU times of the workers
/// that ran this pool's probes are noted (their CPU clocks, exact), and while none of them
/// has run since, the pool is as it was when it answered (a starved pool has every worker
/// busy, and each of them had to run to get busy): it is recorded as answering at that
/// tick, and nothing is sent. A worker that ran, or exited, brings the next probe.
///
/// Thread model: `probe` runs on the watchdog thread, which alone owns `baseline`; the
/// probe tasks on the pool's workers, one after the other (a new one starts only after the
/// previous one ran).
final class ConcurrencyPoolProber: LoopProber, @unchecked Sendable {
    let priority: TaskPriority
    let workers: PoolWorkers
    /// Watchdog thread only: the CPU time of each worker seen running a probe, read at the
    /// first tick after the last answer; nil while a probe waits or before that tick.
    private var baseline: [(threadID: Int32, cpu: Int64)]?
    /// Watchdog thread only: whether the last tick at rest skipped the workers' CPU times.
    private var skipped = false

    init(priority: TaskPriority, workers: PoolWorkers) {
        self.priority = priority
        self.workers = workers
    }

    func probe(_ record: LoopRecord, now: Int64) -> ProbeVerdict {
        // The previous probe is still queued: the pool has not answered it yet.
        guard record.probeState == .answered else {
            baseline = nil
            return .busy
        }
        if let baseline {
            // At rest, while the job watch runs, the workers are looked at every other tick
            // only (each look is a system call per worker): the first job to begin wakes the
            // watchdog anyway, and a starvation by other work is seen one tick later at most.
            skipped.toggle()
            if skipped && !baseline.isEmpty && PoolJobWatch.isActive { return .resting }
            if !baseline.isEmpty && baseline.allSatisfy({ $0.cpu >= 0 && lwd_thread_cpu_ns($0.threadID) == $0.cpu }) {
                record.recordProbe(ranAt: now, next: .answered)
                return .resting
            }
        } else if record.probeRanAt.load(ordering: .relaxed) > 0 {
            // The first tick after an answer: from now on, a worker that runs shows it.
            // Workers that exited since they ran a probe are left out (and forgotten).
            var gone: [Int32] = []
            baseline = workers.seenThreadIDs().compactMap { threadID in
                let cpu = lwd_thread_cpu_ns(threadID)
                if cpu < 0 { gone.append(threadID) }
                return cpu < 0 ? nil : (threadID, cpu)
            }
            if !gone.isEmpty { workers.forget(gone) }
            return .quiet
        }
        baseline = nil
        record.markProbeSent(at: now)
        Task.detached(priority: priority) { [workers] in
            workers.noteCurrentThread()
            record.recordProbe(ranAt: lwd_monotonic_ns(), next: .answered)
        }
        return .busy
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
