import BenchSupport
import Dispatch
import Glibc
import LoopWatchdog
import Synchronization

/// A registered loop thread parked in waits that a signal would cut short: one long poll on
/// a pipe (until `stop()` writes to it), or nanosleeps of 200 ms until `stop()`. It counts
/// every wait that returned EINTR: the signal-free capture path must cut none.
final class ParkedTarget: @unchecked Sendable {
    /// Which system call the thread waits in.
    enum Wait: String, Sendable {
        case poll
        case nanosleep
    }

    let heartbeat: LoopHeartbeat
    private let thread: BenchThread
    private let state: State
    private let writeEnd: Int32

    private final class State: @unchecked Sendable {
        let stopping = Atomic<Bool>(false)
        var waits = 0
        var interrupted = 0
        var heartbeat: LoopHeartbeat?
    }

    /// Starts the thread and returns once it is registered with `watchdog` and waiting.
    init(watchdog: Watchdog, wait: Wait) {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0)
        let readEnd = ends[0]
        writeEnd = ends[1]
        let state = State()
        let ready = DispatchSemaphore(value: 0)
        thread = BenchThread(name: "bench-parked") {
            state.heartbeat = watchdog.registerCurrentThread(name: "parked")
            ready.signal()
            while !state.stopping.load(ordering: .relaxed) {
                let result: Int32
                switch wait {
                case .poll:
                    var waiting = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                    result = Glibc.poll(&waiting, 1, 60_000)
                case .nanosleep:
                    var request = timespec(tv_sec: 0, tv_nsec: 200_000_000)
                    result = Glibc.nanosleep(&request, nil)
                }
                state.waits += 1
                if result == -1 && errno == EINTR { state.interrupted += 1 }
            }
            close(readEnd)
            state.heartbeat?.unregister()
        }
        ready.wait()
        self.state = state
        self.heartbeat = state.heartbeat!
    }

    /// Wakes the thread through its pipe and joins it; returns how many waits it made and
    /// how many of them a signal cut short.
    func stop() -> (waits: Int, interrupted: Int) {
        state.stopping.store(true, ordering: .relaxed)
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        thread.join()
        close(writeEnd)
        return (state.waits, state.interrupted)
    }
}
