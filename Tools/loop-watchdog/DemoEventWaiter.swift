import Dispatch
import LoopWatchdog
import Synchronization

/// Lets a demo wait until the watchdog has reported the end of a stall, so that its own
/// lines and the reports come out in order (reports are symbolicated on the reporter queue;
/// the first one of a large binary takes a few hundred milliseconds).
final class DemoEventWaiter: Sendable {
    private let ended = DispatchSemaphore(value: 0)

    /// Give this to `Watchdog(onEvent:)`; runs on the reporter queue.
    func handle(_ event: StallEvent) {
        if event.kind == .ended { ended.signal() }
    }

    /// Waits at most `seconds` for the next `count` `stall.ended` reports.
    func waitForEnded(count: Int = 1, seconds: Int = 5) {
        let deadline = DispatchTime.now() + .seconds(seconds)
        for _ in 0..<count {
            if ended.wait(timeout: deadline) == .timedOut { return }
        }
    }
}
