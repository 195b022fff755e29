import CLoopWatchdog
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// A watchdog whose ticks the test drives with manual time (`WatchdogLoop.tick(now:)`),
/// watching one loop whose counters the test moves. The loop's thread is real: it stays
/// parked in a sleep, so a capture, when one happens, is real too.
final class ManualTimeWatchdog: @unchecked Sendable {
    let events = EventCollector()
    let watchdog: Watchdog
    let loop: WatchdogLoop
    let heartbeat: LoopHeartbeat
    private let parked: PlainThread
    private let release = StopFlag()
    /// The current manual time, monotonic ns; it starts at the real time of registration
    /// (the loop's busy mark is a real timestamp) and then moves only when the test says.
    private(set) var now: Int64 = 0

    /// A watchdog with `threshold`, not started, and one registered loop. Events go to
    /// `events`, or to `onEvent` instead when given.
    init(threshold: Duration = .milliseconds(100), onEvent: (@Sendable (StallEvent) -> Void)? = nil) throws {
        let events = self.events
        watchdog = Watchdog(
            configuration: Configuration(threshold: threshold),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: [:], onEvent: onEvent ?? { events.append($0) })
        loop = WatchdogLoop(watchdog: watchdog, capturer: StackCapturer(maxFrames: 64))
        let holder = Mutex<LoopHeartbeat?>(nil)
        let release = self.release
        let watchdog = self.watchdog
        parked = try #require(
            PlainThread.start(name: "manual-loop") {
                holder.withLock { $0 = watchdog.registerCurrentThread(name: "manual") }
                while !release.isRaised { usleep(20_000) }
            })
        var registered: LoopHeartbeat?
        while registered == nil {
            usleep(1_000)
            registered = holder.withLock { $0 }
        }
        // From here on only the test thread moves the loop's counters.
        heartbeat = registered!
        now = lwd_monotonic_ns()
    }

    deinit {
        release.raise()
        parked.join()
    }

    /// One tick, `step` after the previous one.
    @discardableResult
    func tick(after step: Duration) -> Int64 {
        now += step.clampedNanoseconds
        return loop.tick(now: now)
    }

    /// Waits until every event produced so far was delivered.
    func flush() {
        watchdog.reporter.flush()
    }
}

/// A flag one thread raises and others poll.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    func raise() { raised.store(true, ordering: .relaxed) }
}
