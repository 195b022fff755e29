import Glibc

/// CLOCK_MONOTONIC in nanoseconds: the clock the watchdog itself uses.
@inline(__always)
public func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Spins in user code, reading the clock, for `nanoseconds`: a CPU-bound block. Never
/// enters the kernel (the vDSO reads the clock), so a capture sees it "running".
@inline(never)
public func spin(nanoseconds: Int64) {
    let end = monotonicNanoseconds() + nanoseconds
    while monotonicNanoseconds() < end {}
}

/// Sleeps in the kernel for `nanoseconds` (restarting after EINTR), a syscall block.
@inline(never)
public func sleepInKernel(nanoseconds: Int64) {
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR {
        request = remaining
    }
}

/// CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID): time
/// the thread ran, whatever else the machine was doing meanwhile.
@inline(__always)
public func threadCPUNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
