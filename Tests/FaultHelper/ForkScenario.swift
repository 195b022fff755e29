import CLoopWatchdog
import Glibc
import LoopWatchdog

/// fork() in a host that runs a watchdog, with the child going on running Swift code.
///
/// The parent starts the shared watchdog with a loop, and forks while they run. The child
/// (guarded by alarm(10)) checks that the inherited watchdog is inert (not running, stop()
/// returns, a registration is harmless), then starts a fresh watchdog of its own and
/// blocks a loop: the fresh one must report it. The parent then blocks its own loop: its
/// watchdog must still report. Prints the parent's and the child's findings.
enum ForkScenario {
    static func run() {
        let parentEvents = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50)), environment: [:],
            onEvent: { parentEvents.append($0) })
        watchdog.start()
        let loopReady = HelperCounter()
        let release = HelperCounter()
        let loop = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "parent-loop")
            loopReady.add()
            while release.value == 0 {
                heartbeat.markIdle()
                sleepMilliseconds(5)
                heartbeat.markBusy()
                heartbeat.beat()
            }
            heartbeat.markBusy()
            heartbeat.beat()
            helperBlockedInSleep(milliseconds: 300)
            heartbeat.markIdle()
            sleepMilliseconds(100)
            heartbeat.unregister()
        }
        while loopReady.value == 0 { sleepMilliseconds(1) }
        sleepMilliseconds(50)

        let child = fork()
        if child < 0 { fail("fork: \(errno)") }
        if child == 0 { runChild(inherited: watchdog) }

        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let childExit = (status & 0x7f) == 0 ? Int((status >> 8) & 0xff) : 128 + Int(status & 0x7f)
        release.add()
        loop.join()
        watchdog.stop()
        var fields = eventFields(parentEvents.all)
        fields["child_exit"] = childExit
        printResult(fields)
    }

    /// The child: exits 0 when everything held, else the number of the first check that
    /// failed. Prints its own result line first.
    private static func runChild(inherited: Watchdog) -> Never {
        alarm(10)
        if inherited.isRunning { _exit(11) }
        inherited.stop()
        let ignored = inherited.registerCurrentThread(name: "child-inherited")
        ignored.beat()
        ignored.unregister()
        let events = EventLog()
        let fresh = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50)), environment: [:],
            onEvent: { events.append($0) })
        fresh.start()
        if !fresh.isRunning { _exit(12) }
        let loop = HelperThread {
            let heartbeat = fresh.registerCurrentThread(name: "child-loop")
            heartbeat.markBusy()
            heartbeat.beat()
            helperBlockedInSleep(milliseconds: 300)
            heartbeat.markIdle()
            sleepMilliseconds(100)
            heartbeat.unregister()
        }
        loop.join()
        fresh.stop()
        let all = events.all
        var fields = eventFields(all)
        fields["role"] = "child"
        printResult(fields)
        let began = all.filter { $0.kind == .began }
        if began.count != 1 || all.filter({ $0.kind == .ended }).count != 1 { _exit(13) }
        if !began[0].frames.contains(where: { $0.symbol?.contains("helperBlockedInSleep") == true }) { _exit(14) }
        _exit(0)
    }
}

/// fork() while the shared watchdog's thread sleeps, then `Watchdog.start()` in the child:
/// the inherited shared watchdog is replaced and released there. Its condition variable
/// had the parent's watchdog thread as a waiter, which does not exist in the child;
/// releasing it must not wait for that thread. The child (alarm(10) as a guard) exits 0
/// once the fresh shared watchdog runs and has stopped.
enum ForkSharedScenario {
    static func run() {
        Watchdog.start(configuration: Configuration(threshold: .milliseconds(50)))
        sleepMilliseconds(100)  // the watchdog thread is now asleep between ticks
        let child = fork()
        if child < 0 { fail("fork: \(errno)") }
        if child == 0 {
            alarm(10)
            Watchdog.start(configuration: Configuration(threshold: .milliseconds(50)))
            let running = Watchdog.shared?.isRunning == true
            Watchdog.stopShared()
            _exit(running ? 0 : 11)
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let childExit = (status & 0x7f) == 0 ? Int((status >> 8) & 0xff) : 128 + Int(status & 0x7f)
        let parentRunning = Watchdog.shared?.isRunning == true
        Watchdog.stopShared()
        printResult(["child_exit": childExit, "parent_running": parentRunning])
    }
}
