import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import LoopWatchdog

/// Production under a container's seccomp profile: the system calls named are denied
/// (EPERM) for every thread before the watchdog starts.
enum ContainerScenarios {
    static let numbers: [String: Int32] = ["process_vm_readv": 310, "pidfd_send_signal": 424, "pidfd_open": 434]

    /// Denies `names`, then a loop stalls in a sleep (captured without a signal, if at all)
    /// and in a spin (captured by signal). Says how long the sleep really took.
    static func denied(_ names: [String]) {
        let denied = names.map { numbers[$0] ?? -1 }
        guard !denied.contains(-1) else { fail("unknown system call in \(names)") }
        let rc = denied.withUnsafeBufferPointer { lwd_test_deny_syscalls($0.baseAddress, Int32($0.count)) }
        guard rc == 0 else { fail("seccomp: \(-rc)") }
        sleepAndSpin()
    }

    /// /proc is masked (an empty tmpfs over it), then the same two stalls.
    static func maskedProc() {
        let rc = lwd_test_mask_proc()
        guard rc == 0 else { fail("cannot mask /proc: \(-rc)") }
        sleepAndSpin()
    }

    /// A loop stalls in a sleep, then in a spin; the result says how long the sleep took.
    private static func sleepAndSpin() {
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        let slept = HelperCounter(Int.max)
        let thread = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "contained")
            heartbeat.markBusy()
            heartbeat.beat()
            slept.lower(to: Int(helperBlockedInSleep(milliseconds: 300) / 1_000_000))
            heartbeat.markIdle()
            sleepMilliseconds(200)
            heartbeat.markBusy()
            heartbeat.beat()
            helperBlockedInSpin(milliseconds: 300)
            heartbeat.markIdle()
            sleepMilliseconds(200)
            heartbeat.unregister()
        }
        thread.join()
        watchdog.stop()
        var fields = eventFields(events.all)
        fields["slept_ms"] = slept.value
        printResult(fields)
    }
}
