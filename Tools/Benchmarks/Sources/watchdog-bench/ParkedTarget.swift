import BenchSupport
import Dispatch
import Glibc
import LoopWatchdog
import Synchronization

/// A registered loop thread that waits in system calls a signal would cut short (nanosleep
/// and poll, 20 ms each, alternately) and counts every wait that returned EINTR: the
/// signal-free capture path must leave all of them alone.
final class ParkedTarget: @unchecked Sendable {
    let heartbeat: LoopHeartbeat
    private let thread: BenchThread
    private let state: State

    private final class State: @unchecked Sendable {
        let stopping = Atomic<Bool>(false)
        var waits = 0
        var interrupted = 0
        var heartbeat: LoopHeartbeat?
    }

    /// Starts the thread and returns once it is registered with `watchdog`.
    init(watchdog: Watchdog) {
        let state = State()
        let ready = DispatchSemaphore(value: 0)
        thread = BenchThread(name: "bench-parked") {
            state.heartbeat = watchdog.registerCurrentThread(name: "parked")
            ready.signal()
            while !state.stopping.load(ordering: .relaxed) {
                var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                let slept = state.waits % 2 == 0 ? nanosleep(&request, nil) : poll(nil, 0, 20)
                state.waits += 1
                if slept == -1 && errno == EINTR { state.interrupted += 1 }
            }
            state.heartbeat?.unregister()
        }
        ready.wait()
        self.state = state
        self.heartbeat = state.heartbeat!
    }

    /// Stops and joins the thread; returns how many waits it made and how many of them a
    /// signal cut short.
    func stop() -> (waits: Int, interrupted: Int) {
        state.stopping.store(true, ordering: .relaxed)
        thread.join()
        return (state.waits, state.interrupted)
    }
}
