import CLoopWatchdog

/// Probes one priority of the Swift Concurrency pool from the watchdog thread: at each
/// tick, unless the previous probe is still waiting for a worker, it marks a new probe due
/// now and starts a detached task of that priority that records when it ran and which
/// thread ran it. The record's probe state is `.answered` while no probe is waiting
/// (answered, or none sent yet) and `.due(at:)` the time the waiting probe was sent otherwise.
///
/// Thread model: `probe` runs on the watchdog thread; the probe tasks on the pool's
/// workers, one after the other (a new one starts only after the previous one ran).
struct ConcurrencyPoolProber: LoopProber {
    let priority: TaskPriority
    let workers: PoolWorkers

    func probe(_ record: LoopRecord, now: Int64) {
        // The previous probe is still queued: the pool has not answered it yet.
        guard record.probeState == .answered else { return }
        record.markProbeSent(at: now)
        Task.detached(priority: priority) { [workers] in
            workers.noteCurrentThread()
            record.recordProbe(ranAt: lwd_monotonic_ns(), next: .answered)
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
