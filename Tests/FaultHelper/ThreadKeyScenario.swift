import CLoopWatchdogTestSupport
import Dispatch
import Glibc
import LoopWatchdog

/// A host that has used every pthread key (PTHREAD_KEYS_MAX) before the watchdog starts:
/// a loop thread that exits in the middle of a stall must still end it, and a blocked job
/// of the Swift Concurrency pool must still be reported.
enum ThreadKeyScenario {
    static func run() {
        let created = lwd_test_exhaust_pthread_keys()
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        // Exits while still busy, without unregistering: only its exit ends the stall.
        let loop = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "exits-busy")
            heartbeat.markBusy()
            heartbeat.beat()
            helperBlockedInSleep(milliseconds: 300)
        }
        loop.join()
        sleepMilliseconds(200)
        let pool = watchdog.watchConcurrencyPool()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            helperBlockedInSleep(milliseconds: 300)
            done.signal()
        }
        done.wait()
        sleepMilliseconds(300)
        pool.stop()
        watchdog.stop()
        var fields = eventFields(events.all)
        fields["keys_created"] = created
        fields["watches_jobs"] = pool.watchesJobs
        fields["job_stalls"] = events.all.filter { $0.kind == .began && $0.job != nil }.count
        fields["loop_stalls_ended"] = events.all.filter { $0.kind == .ended && $0.loopName == "exits-busy" }.count
        printResult(fields)
    }
}
