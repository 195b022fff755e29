import Synchronization

/// Sleeps the watchdog thread until a deadline on CLOCK_MONOTONIC, or until `wake()`, and
/// carries the request to stop. A condition variable rather than `usleep`, so that `stop()`
/// does not wait an interval.
final class IntervalSleeper: Sendable {
    /// Set by `requestStop()`, read by the watchdog thread at every tick without a lock.
    private let stopping = Atomic<Bool>(false)
    private let mutex = PThreadMutex()
    private let condition = PThreadCondition()
    /// Guarded by `mutex`.
    private nonisolated(unsafe) var woken = false

    init() {}

    /// Sleeps until `deadline` (monotonic ns). Returns true if woken by `wake()`.
    @discardableResult
    func sleep(until deadline: Int64) -> Bool {
        mutex.withLock {
            while !woken {
                if !condition.wait(mutex, until: deadline) { break }
            }
            let wasWoken = woken
            woken = false
            return wasWoken
        }
    }

    /// Ends the current or next sleep early.
    func wake() {
        mutex.withLock {
            woken = true
            condition.signal()
        }
    }

    /// True once `requestStop()` was called: the watchdog thread should exit.
    var isStopRequested: Bool { stopping.load(ordering: .relaxed) }

    /// Asks the watchdog thread to exit, and ends its sleep.
    func requestStop() {
        stopping.store(true, ordering: .relaxed)
        wake()
    }

    /// Before a new watchdog thread starts: no stop is requested.
    func clearStopRequest() {
        stopping.store(false, ordering: .relaxed)
    }
}
