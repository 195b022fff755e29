import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Synchronization
import Testing

@testable import LoopWatchdog

/// A thread that registers a `LoopRecord` (so it can be captured) and then runs `work`
/// until `stop()` raises the C flag it polls. For tests whose target loops live in C.
final class FlaggedThread {
    /// The thread's record: its tid, pidfd and stack bounds.
    let record: LoopRecord
    private let flag: UnsafeMutablePointer<Int32>
    private let thread: PlainThread

    /// Starts the thread and waits until it has registered.
    init(name: String, _ work: @escaping @Sendable (UnsafeMutablePointer<Int32>) -> Void) throws {
        flag = .allocate(capacity: 1)
        flag.initialize(to: 0)
        let shared = UnsafeSendable(flag)
        let holder = Mutex<LoopRecord?>(nil)
        thread = try #require(
            PlainThread.start(name: name) {
                holder.withLock { $0 = LoopRecord(name: name) }
                work(shared.value)
            })
        var record: LoopRecord?
        while record == nil {
            usleep(1_000)
            record = holder.withLock { $0 }
        }
        self.record = record!
    }

    /// Captures the thread once with `capturer`.
    func capture(with capturer: StackCapturer) -> StackCapturer.Capture {
        capturer.capture(threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh)
    }

    /// Raises the flag and waits for the thread to finish.
    func stop() {
        lwd_test_flag_raise(flag)
        thread.join()
    }

    deinit {
        flag.deallocate()
    }
}
