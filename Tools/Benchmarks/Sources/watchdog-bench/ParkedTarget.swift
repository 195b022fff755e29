import BenchSupport
import Dispatch
import Glibc
import LoopWatchdog
import Synchronization

/// A registered loop thread parked in one long wait that a signal would cut short: poll on
/// a pipe, or epoll_wait (NIO's wait) on the same pipe, until `stop()` writes to the pipe.
/// It counts every wait that returned EINTR: the signal-free capture path must cut none.
final class ParkedTarget: @unchecked Sendable {
    /// Which system call the thread waits in.
    enum Wait: String, Sendable {
        case poll
        case epollWait = "epoll_wait"
    }

    let heartbeat: LoopHeartbeat
    private let thread: BenchThread
    private let state: State
    private let writeEnd: Int32

    private final class State: @unchecked Sendable {
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
            let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
            var interest = epoll_event()
            interest.events = EPOLLIN.rawValue
            _ = epoll_ctl(epoll, EPOLL_CTL_ADD, readEnd, &interest)
            ready.signal()
            while true {
                let result: Int32
                switch wait {
                case .poll:
                    var waiting = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                    result = poll(&waiting, 1, 60_000)
                case .epollWait:
                    var event = epoll_event()
                    result = epoll_wait(epoll, &event, 1, 60_000)
                }
                state.waits += 1
                if result == -1 && errno == EINTR {
                    state.interrupted += 1
                    continue
                }
                break  // the pipe became readable: stop
            }
            close(epoll)
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
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        thread.join()
        close(writeEnd)
        return (state.waits, state.interrupted)
    }
}
