@_spi(Benchmarking) import LoopWatchdog
import Dispatch
import Glibc

/// Real stacks of this process to symbolicate: taken by the watchdog's own capturer from a
/// thread blocked a few calls deep, as a report would carry them.
public enum StackSample {
    /// Captures the stack of a new thread that is blocked, three calls deep, in a sleep
    /// system call (its stack then runs through libc's sleep functions, as most real stalls
    /// do: I/O, locks, sleeps).
    public static func parkedThread() -> [UInt] {
        let watchdog = Watchdog.quiet()
        let registered = DispatchSemaphore(value: 0)
        let box = HeartbeatBox()
        let thread = BenchThread(name: "bench-parked") {
            box.heartbeat = watchdog.registerCurrentThread(name: "parked")
            registered.signal()
            _ = blockedOuter(milliseconds: 400)
        }
        registered.wait()
        return captureWhileBlocked(box.heartbeat!, then: thread)
    }

    /// Captures, by signal, the stack of a new thread spinning in user code two calls deep:
    /// other addresses than ``parkedThread()``'s, in the same binary.
    public static func spinningThread() -> [UInt] {
        let watchdog = Watchdog.quiet()
        let registered = DispatchSemaphore(value: 0)
        let box = HeartbeatBox()
        let thread = BenchThread(name: "bench-spinning") {
            box.heartbeat = watchdog.registerCurrentThread(name: "spinning")
            registered.signal()
            _ = spinningOuter(milliseconds: 400)
        }
        registered.wait()
        return captureWhileBlocked(box.heartbeat!, then: thread)
    }

    /// Captures `heartbeat`'s thread 100 ms from now (it must be blocked then) and waits for
    /// `thread` to finish.
    public static func captureWhileBlocked(_ heartbeat: LoopHeartbeat, then thread: BenchThread? = nil) -> [UInt] {
        sleepInKernel(nanoseconds: 100_000_000)
        let capture = _WatchdogBenchmarkHooks.Capturer().capture(heartbeat)
        thread?.join()
        precondition(capture.outcome.hasStack, "no stack captured: \(capture.outcome)")
        return capture.addresses
    }

    /// Hands a heartbeat from the thread that registered to the one that captures; the
    /// semaphore orders the write before the read.
    private final class HeartbeatBox: @unchecked Sendable {
        var heartbeat: LoopHeartbeat?
    }
}

/// The outer of three nested frames a parked stack runs through. Each returns a value
/// computed after its call, so that release builds keep the calls out of tail position
/// and every frame stays on the stack.
@inline(never)
public func blockedOuter(milliseconds: Int64) -> Int64 {
    blockedMiddle(milliseconds: milliseconds) &+ monotonicNanoseconds() & 1
}

@inline(never)
func blockedMiddle(milliseconds: Int64) -> Int64 {
    blockedInner(milliseconds: milliseconds) &+ monotonicNanoseconds() & 1
}

@inline(never)
func blockedInner(milliseconds: Int64) -> Int64 {
    sleepInKernel(nanoseconds: milliseconds * 1_000_000)
    return monotonicNanoseconds() & 1
}

/// The outer of two nested frames a spinning stack runs through.
@inline(never)
public func spinningOuter(milliseconds: Int64) -> Int64 {
    spinningInner(milliseconds: milliseconds) &+ monotonicNanoseconds() & 1
}

@inline(never)
func spinningInner(milliseconds: Int64) -> Int64 {
    spin(nanoseconds: milliseconds * 1_000_000)
    return monotonicNanoseconds() & 1
}
