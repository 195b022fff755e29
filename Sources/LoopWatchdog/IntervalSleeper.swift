import Glibc

/// Sleeps the watchdog thread until a deadline on CLOCK_MONOTONIC, or until `wake()`.
/// A condition variable rather than `usleep`, so that `stop()` does not wait an interval.
final class IntervalSleeper: @unchecked Sendable {
    // The mutex guards `woken`; both pointers are allocated once and freed in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var woken = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    /// The process that created the sleeper.
    private let ownerProcess = getpid()

    deinit {
        // In the child of a fork, the parent's watchdog thread may have been waiting on the
        // condition when the process forked, and it does not exist there. glibc versions
        // whose pthread_cond_destroy waits for every counted waiter to leave (the condvar
        // of glibc 2.25 did; Debian 12's 2.36 no longer counts them) would hang the child
        // forever. Leak the two small allocations there instead.
        guard getpid() == ownerProcess else { return }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Sleeps until `deadline` (monotonic ns). Returns true if woken by `wake()`.
    func sleep(until deadline: Int64) -> Bool {
        var timeout = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !woken {
            if pthread_cond_timedwait(condition, mutex, &timeout) == ETIMEDOUT { break }
        }
        let wasWoken = woken
        woken = false
        return wasWoken
    }

    /// Ends the current or next sleep early.
    func wake() {
        pthread_mutex_lock(mutex)
        woken = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }
}
