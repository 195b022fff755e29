import Dispatch
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// Collects events from the reporter queue.
final class EventCollector: Sendable {
    private let events = Mutex<[StallEvent]>([])
    var all: [StallEvent] { events.withLock { $0 } }
    func append(_ event: StallEvent) {
        events.withLock { $0.append(event) }
    }
}

/// A watchdog with manual configuration, no log output, and every event into `events`.
func quietWatchdog(threshold: Duration, events: EventCollector) -> Watchdog {
    Watchdog(
        configuration: Configuration(threshold: threshold),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        environment: [:], onEvent: { events.append($0) })
}

/// A logger whose records stay in memory.
func inMemoryLogger() -> (InMemoryLogHandler, Logger) {
    let handler = InMemoryLogHandler()
    var logger = Logger(label: "test", factory: { _ in handler })
    logger.logLevel = .trace
    return (handler, logger)
}

/// A loop on its own thread that runs scripts of steps: idle waits (marked idle) and
/// blocking work (after a beat). `run` waits until the script is done.
final class ScriptedLoop: @unchecked Sendable {
    enum Step {
        case idle(milliseconds: Int)
        case block(@Sendable () -> Void)
    }

    // `script` and `done` are handed over under `lock`; the thread owns everything else.
    private let lock = NSCondition()
    private var script: [Step]?
    private var done = false
    private var thread: PlainThread?
    private(set) var heartbeat: LoopHeartbeat!
    var threadID: Int32 { heartbeat.threadID }

    init(watchdog: Watchdog, name: String) throws {
        let ready = DispatchSemaphore(value: 0)
        thread = PlainThread.start(name: name) { [self] in
            heartbeat = watchdog.registerCurrentThread(name: name)
            heartbeat.markIdle()
            ready.signal()
            loop()
        }
        try #require(thread != nil)
        ready.wait()
    }

    deinit {
        lock.lock()
        done = true
        lock.signal()
        lock.unlock()
        thread?.join()
    }

    func run(_ steps: [Step]) {
        run(steps, releasing: {})
    }

    /// Runs `steps`, calling `releasing` on the calling thread meanwhile (to unblock a
    /// step from outside), and waits until the script is done.
    func run(_ steps: [Step], releasing: () -> Void) {
        lock.lock()
        script = steps
        lock.broadcast()
        lock.unlock()
        releasing()
        lock.lock()
        while script != nil { lock.wait() }
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            while script == nil && !done { lock.wait() }
            if done {
                lock.unlock()
                heartbeat.unregister()
                return
            }
            let steps = script!
            lock.unlock()
            heartbeat.markBusy()
            for step in steps {
                switch step {
                case .idle(let milliseconds):
                    heartbeat.markIdle()
                    usleep(UInt32(milliseconds * 1_000))
                    heartbeat.markBusy()
                case .block(let work):
                    heartbeat.beat()
                    work()
                }
            }
            heartbeat.markIdle()
            lock.lock()
            script = nil
            lock.broadcast()
            lock.unlock()
        }
    }
}
