/// A value guarded by a glibc mutex: `Synchronization.Mutex` without its fork hazard.
///
/// Swift 6.3's `Mutex` caches each thread's id. In the child of a `fork()`, the forking
/// thread keeps its parent's id, so a `Mutex` it holds while a new thread of the child
/// contends for it cannot be released: the child crashes ("Call to unlock Mutex on a
/// thread which hasn't acquired the lock", reproduced by ForkTests). glibc gives the
/// child's thread its new id, so its mutexes work there. Used for the state that a forked
/// child may touch: the watchdog's registry and the shared instance.
final class ForkSafeLock<Value>: @unchecked Sendable {
    // `value` is touched only with `mutex` held.
    private let mutex = PThreadMutex()
    private var value: Value

    /// A lock guarding `value`.
    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the value, the lock held.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&value)
    }
}
