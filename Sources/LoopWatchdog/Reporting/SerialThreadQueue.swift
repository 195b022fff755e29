import CLoopWatchdog

/// Runs closures one after another on one dedicated thread, started on first use.
///
/// Bounded: at most `capacity` closures wait; `async` refuses more (the reporter counts
/// what it drops), so a destination that cannot keep up never makes memory grow. Shutdown
/// is bounded too: a closure stuck in a write (a reader that stopped reading) delays it by
/// at most the timeout given, then the thread is left to finish on its own.
///
/// The reporter uses it instead of a Dispatch queue because the toolchain's Runtime module
/// caches ELF images per thread: symbolicating always on the same thread keeps that cache
/// warm (a cold symbolication of a large binary costs hundreds of milliseconds).
final class SerialThreadQueue: @unchecked Sendable {
    // Everything below is guarded by `mutex`.
    private let mutex = PThreadMutex()
    private let changed = PThreadCondition()
    private var pending: [() -> Void] = []
    private var running = false
    private var shuttingDown = false
    private var thread: PlainThread?
    private var threadID: Int32 = 0
    private let name: String
    private let capacity: Int

    /// Creates a queue whose thread will be called `name`, holding at most `capacity`
    /// closures waiting to run.
    init(name: String, capacity: Int = .max) {
        self.name = name
        self.capacity = max(capacity, 1)
    }

    /// Queues `work`; returns at once. Returns false, and drops `work`, when `capacity`
    /// closures are already waiting or after `shutdown()`.
    @discardableResult
    func async(_ work: @escaping @Sendable () -> Void) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        guard !shuttingDown, pending.count < capacity else { return false }
        pending.append(work)
        if thread == nil {
            thread = PlainThread.start(name: name, blockingSIGPIPE: true) { [self] in drain() }
        }
        changed.broadcast()
        return true
    }

    /// Waits until everything queued so far has run, or until `timeout` passed. Returns
    /// false on the timeout.
    @discardableResult
    func flush(timeout: Duration? = nil) -> Bool {
        let deadline = timeout.map { lwd_monotonic_ns() + $0.clampedNanoseconds }
        mutex.lock()
        defer { mutex.unlock() }
        while !pending.isEmpty || running {
            if let deadline {
                if lwd_monotonic_ns() >= deadline { return false }
                _ = changed.wait(mutex, until: deadline)
            } else {
                changed.wait(mutex)
            }
        }
        return true
    }

    /// Runs what is queued, then ends the thread and waits for it, for at most `timeout`:
    /// past it, what is still queued is dropped and the thread finishes the closure it runs
    /// on its own. Returns false when it had to.
    @discardableResult
    func shutdown(timeout: Duration = .seconds(5)) -> Bool {
        let onQueueThread = mutex.withLock { threadID == lwd_gettid() }
        // Called from a closure on the queue itself, the thread ends once that closure returns.
        let drained = onQueueThread || flush(timeout: timeout)
        mutex.lock()
        shuttingDown = true
        if !drained { pending.removeAll() }
        changed.broadcast()
        let thread = self.thread
        self.thread = nil
        mutex.unlock()
        if onQueueThread || !drained {
            thread?.detach()
        } else {
            thread?.join()
        }
        return drained
    }

    private func drain() {
        mutex.lock()
        threadID = lwd_gettid()
        while true {
            if pending.isEmpty {
                if shuttingDown { break }
                changed.wait(mutex)
                continue
            }
            // One at a time, so that `pending` counts everything not yet running.
            let work = pending.removeFirst()
            running = true
            mutex.unlock()
            work()
            mutex.lock()
            running = false
            changed.broadcast()
        }
        mutex.unlock()
    }
}
