/// Tells a pool worker that is parked, waiting for work, from one that runs a job.
///
/// When a pool is starved every worker should be busy, but a worker that was just parked or
/// is about to exit can still be listed. Dispatch runs every job, Swift tasks included,
/// through `_dispatch_client_callout` (or the block and continuation helpers it inlines
/// into); a parked worker's stack has none of them, only the worker loop
/// (`_dispatch_worker_thread`) waiting on its semaphore. Decided on symbolicated frames, on
/// the reporter queue.
enum IdleWorker {
    /// Frames that only a worker running a job has.
    private static let jobMarkers = [
        "_dispatch_client_callout", "_dispatch_call_block_and_release", "_dispatch_continuation_pop",
        "swift_job_run", "swift::runJobInEstablishedExecutorContext",
    ]
    /// The frame of dispatch's worker loop.
    private static let workerLoop = "_dispatch_worker_thread"

    /// True when `thread`'s stack shows a dispatch worker waiting for work and no job.
    static func isParked(_ thread: ThreadStack) -> Bool {
        guard thread.capture.hasStack else { return false }
        let symbols = thread.frames.compactMap(\.symbol)
        guard symbols.contains(where: { $0.hasPrefix(workerLoop) }) else { return false }
        return !symbols.contains { symbol in jobMarkers.contains { symbol.contains($0) } }
    }
}
