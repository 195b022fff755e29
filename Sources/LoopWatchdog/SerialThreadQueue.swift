import CLoopWatchdog
import Glibc

/// Runs closures one after another on one dedicated thread, started on first use.
///
/// The reporter uses it instead of a Dispatch queue because the toolchain's Runtime module
/// caches ELF images per thread: symbolicating always on the same thread keeps that cache
/// warm (a cold symbolication of a large binary costs hundreds of milliseconds).
final class SerialThreadQueue: @unchecked Sendable {
    // Everything below is guarded by `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    private var pending: [() -> Void] = []
    private var running = false
    private var shuttingDown = false
    private var thread: PlainThread?
    private var threadID: Int32 = 0
    private let name: String

    /// Creates a queue whose thread will be called `name`.
    init(name: String) {
        self.name = name
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        changed = .allocate(capacity: 1)
        changed.initialize(to: pthread_cond_t())
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Queues `work`; returns at once. Ignored after `shutdown()`.
    func async(_ work: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !shuttingDown else { return }
        pending.append(work)
        if thread == nil {
            thread = PlainThread.start(name: name) { [self] in drain() }
        }
        pthread_cond_broadcast(changed)
    }

    /// Waits until everything queued so far has run.
    func flush() {
        pthread_mutex_lock(mutex)
        while !pending.isEmpty || running {
            pthread_cond_wait(changed, mutex)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Runs what is queued, then ends the thread and waits for it.
    func shutdown() {
        pthread_mutex_lock(mutex)
        shuttingDown = true
        pthread_cond_broadcast(changed)
        let thread = self.thread
        let onQueueThread = threadID == lwd_gettid()
        self.thread = nil
        pthread_mutex_unlock(mutex)
        // Called from a closure on the queue itself, the thread ends once that closure returns.
        if !onQueueThread { thread?.join() }
    }

    private func drain() {
        pthread_mutex_lock(mutex)
        threadID = lwd_gettid()
        while true {
            if pending.isEmpty {
                if shuttingDown { break }
                pthread_cond_wait(changed, mutex)
                continue
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            running = true
            pthread_mutex_unlock(mutex)
            for work in batch { work() }
            pthread_mutex_lock(mutex)
            running = false
            pthread_cond_broadcast(changed)
        }
        pthread_mutex_unlock(mutex)
    }
}
