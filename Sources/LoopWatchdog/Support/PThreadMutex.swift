import Glibc

/// A glibc mutex on the heap, the one lock primitive of the package: ``ForkSafeLock``,
/// ``IntervalSleeper`` and ``SerialThreadQueue`` are built on it. Every pthread call's
/// return code is checked, as swift-log's lock does: a failure is a bug, never a state.
///
/// glibc rather than `Synchronization.Mutex`: in the child of a `fork()` glibc gives the
/// forking thread its new id, so a lock it holds still works there (see ``ForkSafeLock``).
final class PThreadMutex: @unchecked Sendable {
    // Allocated once, never moved: pthread objects must keep their address.
    let pointer: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(pointer, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        let rc = pthread_mutex_destroy(pointer)
        precondition(rc == 0, "pthread_mutex_destroy failed: \(rc)")
        pointer.deallocate()
    }

    func lock() {
        let rc = pthread_mutex_lock(pointer)
        precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
    }

    func unlock() {
        let rc = pthread_mutex_unlock(pointer)
        precondition(rc == 0, "pthread_mutex_unlock failed: \(rc)")
    }

    /// Runs `body` with the mutex held.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A glibc condition variable whose timed waits use CLOCK_MONOTONIC, used with one
/// ``PThreadMutex``. Return codes are checked like the mutex's.
final class PThreadCondition: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<pthread_cond_t>
    /// The process that created the condition.
    private let ownerProcess = getpid()

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        precondition(pthread_condattr_init(&attributes) == 0, "pthread_condattr_init failed")
        precondition(pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0, "pthread_condattr_setclock failed")
        let rc = pthread_cond_init(pointer, &attributes)
        precondition(rc == 0, "pthread_cond_init failed: \(rc)")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        // In the child of a fork, a thread of the parent may have been waiting on the
        // condition when the process forked, and it does not exist there. glibc versions
        // whose pthread_cond_destroy waits for every counted waiter to leave (the condvar
        // of glibc 2.25 did; Debian 12's 2.36 no longer counts them) would hang the child
        // forever. Leak the small allocation there instead.
        guard getpid() == ownerProcess else { return }
        let rc = pthread_cond_destroy(pointer)
        precondition(rc == 0, "pthread_cond_destroy failed: \(rc)")
        pointer.deallocate()
    }

    /// Waits for a signal; `mutex` must be held and is held again on return.
    func wait(_ mutex: PThreadMutex) {
        let rc = pthread_cond_wait(pointer, mutex.pointer)
        precondition(rc == 0, "pthread_cond_wait failed: \(rc)")
    }

    /// Waits for a signal or until `deadline` (monotonic ns); returns false on time-out.
    func wait(_ mutex: PThreadMutex, until deadline: Int64) -> Bool {
        let clamped = max(deadline, 0)
        var timeout = timespec(tv_sec: Int(clamped / 1_000_000_000), tv_nsec: Int(clamped % 1_000_000_000))
        let rc = pthread_cond_timedwait(pointer, mutex.pointer, &timeout)
        precondition(rc == 0 || rc == ETIMEDOUT, "pthread_cond_timedwait failed: \(rc)")
        return rc == 0
    }

    func signal() {
        let rc = pthread_cond_signal(pointer)
        precondition(rc == 0, "pthread_cond_signal failed: \(rc)")
    }

    func broadcast() {
        let rc = pthread_cond_broadcast(pointer)
        precondition(rc == 0, "pthread_cond_broadcast failed: \(rc)")
    }
}
