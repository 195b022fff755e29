import CLoopWatchdog

/// Runs closures one after another on one dedicated thread, started on first use.
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

    /// Creates a queue whose thread will be called `name`.
    init(name: String) {
        self.name = name
    }

    /// Queues `work`; returns at once. Ignored after `shutdown()`.
    func async(_ work: @escaping @Sendable () -> Void) {
        mutex.lock()
        defer { mutex.unlock() }
        guard !shuttingDown else { return }
        pending.append(work)
        if thread == nil {
            thread = PlainThread.start(name: name) { [self] in drain() }
        }
        changed.broadcast()
    }

    /// Waits until everything queued so far has run.
    func flush() {
        mutex.lock()
        while !pending.isEmpty || running {
            changed.wait(mutex)
        }
        mutex.unlock()
    }

    /// Runs what is queued, then ends the thread and waits for it.
    func shutdown() {
        mutex.lock()
        shuttingDown = true
        changed.broadcast()
        let thread = self.thread
        let onQueueThread = threadID == lwd_gettid()
        self.thread = nil
        mutex.unlock()
        // Called from a closure on the queue itself, the thread ends once that closure returns.
        if !onQueueThread { thread?.join() }
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
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            running = true
            mutex.unlock()
            for work in batch { work() }
            mutex.lock()
            running = false
            changed.broadcast()
        }
        mutex.unlock()
    }
}
