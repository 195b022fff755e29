/// Tells a pool worker that is parked, waiting for work, from one that runs a job.
///
/// When a pool is starved every worker should be busy, but a worker that was just parked or
/// is about to exit can still be listed. A parked dispatch worker's stack lies wholly in
/// libc and libdispatch (the worker loop waiting on its semaphore); a worker that runs a job
/// has frames of the job's code: the Swift runtime running a task, or the application.
/// Decided on image names, which are always known, rather than on libdispatch's internal
/// symbol names, which the symbolicator cannot always give. Runs on the reporter queue.
enum IdleWorker {
    /// Images of the parked path.
    private static let systemImages = ["libc.so", "libpthread.so", "libdispatch.so", "ld-linux", "linux-vdso"]
    /// Frames that only a worker running a job has, when symbol names are known.
    private static let jobMarkers = ["_dispatch_client_callout", "_dispatch_call_block_and_release", "swift_job_run"]

    /// True when `thread`'s stack shows a worker waiting for work and no job.
    static func isParked(_ thread: ThreadStack) -> Bool {
        guard thread.capture.hasStack, !thread.frames.isEmpty else { return false }
        let onlySystemFrames = thread.frames.allSatisfy { frame in
            guard let image = frame.image else { return true }
            let name = image.split(separator: "/").last.map(String.init) ?? image
            return systemImages.contains { name.hasPrefix($0) }
        }
        let runsAJob = thread.frames.contains { frame in
            guard let symbol = frame.symbol else { return false }
            return jobMarkers.contains { symbol.contains($0) }
        }
        return onlySystemFrames && !runsAJob
    }
}
