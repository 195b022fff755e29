import CLoopWatchdog
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// A watchdog whose ticks the test drives with manual time (`WatchdogThread.tick(now:)`),
/// watching one loop whose counters the test moves. The loop's thread is real: it stays
/// parked in poll(2) until the end, so a capture, when one happens, is real too (and
/// always signal-free: poll is cut short by signals, so it is never signalled).
final class ManualTimeWatchdog: @unchecked Sendable {
    let events = EventCollector()
    let watchdog: Watchdog
    let loop: WatchdogThread
    let heartbeat: LoopHeartbeat
    private let parked: PlainThread
    /// The loop thread polls `wake[0]`; deinit writes to `wake[1]`.
    private let wake: [Int32]
    /// The current manual time, monotonic ns; it starts at the real time of registration
    /// (the loop's busy mark is a real timestamp) and then moves only when the test says.
    private(set) var now: Int64 = 0

    /// A watchdog with `threshold`, not started, and one registered loop. Events go to
    /// `events`, or to `onEvent` instead when given.
    /// With `poolJob`, the loop is registered as a worker of the Swift Concurrency pool
    /// watched job by job, running jobs of that job's priority.
    init(
        threshold: Duration = .milliseconds(100), poolJob: PoolWorkerJob? = nil,
        logger: Logger? = nil, onEvent: (@Sendable (StallEvent) -> Void)? = nil
    ) throws {
        let events = self.events
        watchdog = Watchdog(
            configuration: Configuration(threshold: threshold),
            logger: logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: [:], onEvent: onEvent ?? { events.append($0) })
        loop = watchdog.makeThreadBody(capturer: StackCapturer(maxFrames: 64))
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        wake = fds
        let holder = Mutex<LoopHeartbeat?>(nil)
        let readEnd = fds[0]
        let watchdog = self.watchdog
        parked = try #require(
            PlainThread.start(name: "manual-loop") {
                holder.withLock {
                    $0 = poolJob.map { watchdog.registerPoolWorker(job: $0) } ?? watchdog.registerCurrentThread(name: "manual")
                }
                var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                while poll(&entry, 1, -1) < 0 && errno == EINTR {}
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
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
        parked.join()
        close(wake[0])
        close(wake[1])
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

