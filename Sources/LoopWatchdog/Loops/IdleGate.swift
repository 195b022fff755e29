import Synchronization

/// Lets the watchdog thread sleep for long while every watched loop is idle, and the first
/// loop that goes busy wake it at once.
///
/// Waking every interval costs a context switch each time (about 30 µs of CPU on a
/// virtual machine: 0.3 % of a core at 100 wake-ups a second) for nothing while every loop
/// waits for work; no loop can stall while idle. Parked, the watchdog wakes once a second.
///
/// The handshake is Dekker's: the watchdog stores `parked` then rereads every loop's idle
/// mark; a loop clears its idle mark then loads `parked`. Both sides use sequentially
/// consistent accesses, so at least one sees the other: either the watchdog sees the busy
/// loop and does not park, or the loop sees `parked` and wakes it.
///
/// Thread model: `park`/`unpark` on the watchdog thread only; `loopWentBusy` on any loop
/// thread, from `LoopHeartbeat.markBusy()`; `wake` from any thread.
final class IdleGate: Sendable {
    private let parked = Atomic<Bool>(false)
    private let sleeper: IntervalSleeper

    /// How long the watchdog sleeps while parked, unless woken.
    static let parkedIntervalNanoseconds: Int64 = 1_000_000_000

    init(sleeper: IntervalSleeper) {
        self.sleeper = sleeper
    }

    /// Loop side, after the loop cleared its idle mark: wakes the watchdog if it is parked.
    /// Cost while the watchdog is not parked: one load (a plain load on x86).
    @inline(__always)
    func loopWentBusy() {
        if parked.load(ordering: .sequentiallyConsistent) {
            wake()
        }
    }

    /// Wakes the watchdog if it is parked (a loop went busy, or a loop registered).
    func wake() {
        if parked.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
            sleeper.wake()
        }
    }

    /// Watchdog side: announces the park, then asks `allIdle` (which must read every loop's
    /// idle mark with sequentially consistent loads) whether it still holds. Returns true
    /// when the watchdog may sleep parked; false (and not parked) otherwise.
    func park(ifStillIdle allIdle: () -> Bool) -> Bool {
        parked.store(true, ordering: .sequentiallyConsistent)
        if allIdle() { return true }
        parked.store(false, ordering: .sequentiallyConsistent)
        return false
    }

    /// Watchdog side, after a parked sleep ended for any reason.
    func unpark() {
        parked.store(false, ordering: .sequentiallyConsistent)
    }
}
