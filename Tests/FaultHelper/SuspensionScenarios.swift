import CLoopWatchdog
import Glibc
import LoopWatchdog
import Synchronization

/// Loops for the stop/continue and tracer tests. Configured by LOOP_WATCHDOG_* from the
/// test, like any host process.
enum SuspensionScenarios {
    /// A loop that is always busy with short jobs (a 60 ms sleep, a 40 ms spin, 5 ms idle)
    /// until the helper receives SIGTERM: whenever the process is stopped, a job is under
    /// way, blocked part of the way to any threshold above 100 ms. Prints READY once the
    /// loop runs.
    static func busyLoop() {
        // Every thread inherits the block; the main thread takes SIGTERM with sigwait.
        var terminate = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &terminate, nil)
        let watchdog = Watchdog.start()
        let jobs = HelperCounter()
        let stop = HelperCounter()
        let thread = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "busy")
            announce("READY")
            while stop.value == 0 {
                heartbeat.beat()
                helperBlockedInSleep(milliseconds: 60)
                heartbeat.beat()
                helperBlockedInSpin(milliseconds: 40)
                heartbeat.markIdle()
                sleepMilliseconds(5)
                heartbeat.markBusy()
                jobs.add()
            }
            heartbeat.unregister()
        }
        var received: Int32 = 0
        sigwait(&terminate, &received)
        stop.add()
        thread.join()
        Watchdog.stopShared()
        printResult(["jobs": jobs.value])
    }

    /// A loop that blocks `count` times in a sleep of `milliseconds`, idle 300 ms between.
    /// Says how long the shortest sleep really took (a signal would cut one short).
    static func stalls(count: Int, milliseconds: Int, beforeTheFirst: (@Sendable () -> Void)? = nil) {
        let watchdog = Watchdog.start()
        let shortest = HelperCounter(Int.max)
        let thread = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "staller")
            announce("READY")
            beforeTheFirst?()
            for _ in 0..<count {
                heartbeat.markBusy()
                heartbeat.beat()
                let slept = helperBlockedInSleep(milliseconds: milliseconds)
                shortest.lower(to: Int(slept / 1_000_000))
                heartbeat.markIdle()
                sleepMilliseconds(300)
            }
            heartbeat.unregister()
        }
        thread.join()
        Watchdog.stopShared()
        printResult(["stalls": count, "shortest_sleep_ms": shortest.value])
    }
}

/// A counter shared by threads.
final class HelperCounter: Sendable {
    private let count: Mutex<Int>
    init(_ value: Int = 0) { count = Mutex(value) }
    func add() { count.withLock { $0 += 1 } }
    func lower(to value: Int) { count.withLock { $0 = min($0, value) } }
    var value: Int { count.withLock { $0 } }
}
