import BenchSupport
import Dispatch
import LoopWatchdog
import Synchronization

/// A registered loop thread that spins in user code and notes every gap longer than
/// `minimumGap` between two consecutive clock reads: the time it did not run. A signal
/// capture shows up as such a gap (kernel entry, handler, sigreturn); so does every
/// preemption, which is why the capture benchmark compares with control windows.
final class SpinningTarget: @unchecked Sendable {
    /// One gap: when it started and how long it lasted, in monotonic ns.
    struct Gap {
        var start: Int64
        var length: Int64
    }

    let heartbeat: LoopHeartbeat
    private let thread: BenchThread
    private let state: State

    /// Written only by the spinning thread, read after `stop()` joined it.
    private final class State: @unchecked Sendable {
        let stopping = Atomic<Bool>(false)
        let gaps: UnsafeMutableBufferPointer<Gap>
        var count = 0
        var heartbeat: LoopHeartbeat?

        init(capacity: Int) {
            gaps = .allocate(capacity: capacity)
        }

        deinit {
            gaps.deallocate()
        }
    }

    /// Starts the thread and returns once it is registered with `watchdog` and spinning.
    init(watchdog: Watchdog, minimumGap: Int64 = 1_000, capacity: Int = 1 << 22) {
        let state = State(capacity: capacity)
        let ready = DispatchSemaphore(value: 0)
        thread = BenchThread(name: "bench-spinner") {
            state.heartbeat = watchdog.registerCurrentThread(name: "spinner")
            ready.signal()
            var last = monotonicNanoseconds()
            while !state.stopping.load(ordering: .relaxed) {
                let now = monotonicNanoseconds()
                if now - last > minimumGap && state.count < state.gaps.count {
                    state.gaps[state.count] = Gap(start: last, length: now - last)
                    state.count += 1
                }
                last = now
            }
            state.heartbeat?.unregister()
        }
        ready.wait()
        self.state = state
        self.heartbeat = state.heartbeat!
    }

    /// Stops and joins the thread; returns the gaps it saw, in time order.
    func stop() -> [Gap] {
        state.stopping.store(true, ordering: .relaxed)
        thread.join()
        return Array(state.gaps[0..<state.count])
    }
}

extension [SpinningTarget.Gap] {
    /// The longest gap overlapping [start, end] (0 if none). The array is in time order.
    func longest(overlapping start: Int64, _ end: Int64) -> Int64 {
        // First gap that ends after `start`: gaps do not overlap, so ends are ordered too.
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].start + self[middle].length <= start { low = middle + 1 } else { high = middle }
        }
        var longest: Int64 = 0
        var index = low
        while index < count && self[index].start < end {
            longest = Swift.max(longest, self[index].length)
            index += 1
        }
        return longest
    }
}
