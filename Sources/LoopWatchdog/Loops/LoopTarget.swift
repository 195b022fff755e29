import CLoopWatchdog

/// What a record watches: one loop thread, or a pool of worker threads.
enum LoopTarget: Sendable {
    /// A loop that runs on one thread (registered on it).
    case thread(LoopThread)
    /// An executor that runs on several threads, which the watchdog thread probes itself.
    case pool(PoolTarget)
}

/// The thread of a loop, and what a capture of it needs, learnt on that thread at
/// registration.
struct LoopThread: Sendable {
    /// The kernel thread id.
    let threadID: Int32
    /// A pidfd naming the thread, or a negative value when the kernel has none.
    let pidfd: Int32
    /// The thread's /proc files, kept open so that a capture reads them without opening them
    /// (negative when they could not be opened: captures then use paths).
    let procFiles: ThreadProcFiles
    /// The top of the thread's stack (0 when unknown); bounds signal-free unwinding.
    let stackHigh: UInt

    /// The calling thread.
    static func current() -> LoopThread {
        let threadID = lwd_gettid()
        var low: UInt = 0
        var high: UInt = 0
        return LoopThread(
            threadID: threadID, pidfd: lwd_open_thread_pidfd(), procFiles: ThreadProcFiles(threadID: threadID),
            stackHigh: lwd_current_stack_bounds(&low, &high) == 0 ? high : 0)
    }
}

/// A pool: how to find its workers, and how the watchdog thread probes it.
struct PoolTarget: Sendable {
    /// Finds the pool's worker threads.
    let workers: PoolWorkers
    /// Sends the pool a probe at each tick of the watchdog thread.
    let prober: any LoopProber
}
