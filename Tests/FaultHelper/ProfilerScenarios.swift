import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import LoopWatchdog
import Synchronization

/// Another SIGPROF user in the same process: a setitimer(ITIMER_PROF) profiler whose
/// handler counts what it receives, installed before or after the watchdog's.
enum ProfilerScenarios {
    /// The profiler first, then the watchdog (which chains to it). Three stalls spinning
    /// on the CPU are captured by signal while the profiler's timer fires every ms.
    static func profilerInstalledBefore() {
        guard lwd_test_profiler_install() == 0, lwd_test_profiler_start(1_000) == 0 else { fail("profiler set-up") }
        helperBlockedInSpin(milliseconds: 100)
        // Pause the timer while the watchdog installs its handler, so that every signal
        // the profiler receives from now on has come through the watchdog's handler.
        _ = lwd_test_profiler_stop()
        sleepMilliseconds(20)
        var directTotal: UInt64 = 0
        var directFromUs: UInt64 = 0
        lwd_test_profiler_counts(&directTotal, &directFromUs)

        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        var before = lwd_signal_counters()
        lwd_signal_counters_read(&before)
        _ = lwd_test_profiler_start(1_000)
        let loop = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "spinner")
            for _ in 0..<3 {
                heartbeat.markBusy()
                heartbeat.beat()
                helperBlockedInSpin(milliseconds: 300)
                heartbeat.markIdle()
                sleepMilliseconds(100)
            }
            heartbeat.unregister()
        }
        loop.join()
        watchdog.stop()
        _ = lwd_test_profiler_stop()
        sleepMilliseconds(50)
        var total: UInt64 = 0
        var fromUs: UInt64 = 0
        lwd_test_profiler_counts(&total, &fromUs)
        var after = lwd_signal_counters()
        lwd_signal_counters_read(&after)
        var fields = eventFields(events.all)
        fields["profiler_direct"] = directTotal
        fields["profiler_through_watchdog"] = total - directTotal
        fields["forwarded"] = after.forwarded - before.forwarded
        fields["ours"] = after.ours - before.ours
        fields["late_dropped"] = after.late_ours_dropped - before.late_ours_dropped
        fields["profiler_saw_ours"] = fromUs
        fields["watchdog_handler_installed"] = lwd_signal_capture_is_installed()
        // Each stall is sampled while it lasts, the began stack first: a spinning thread
        // only by signal.
        let samples = events.all.filter { $0.kind == .ended }.compactMap(\.samples)
        fields["samples"] = samples.map(\.count).reduce(0, +)
        fields["samples_by_signal"] = samples.flatMap(\.stacks).filter { $0.capture == .signal }.map(\.count).reduce(0, +)
        fields["samples_other"] = samples.map(\.otherCount).reduce(0, +)
        printResult(fields)
    }

    /// The watchdog first, then a profiler that replaces its handler without chaining.
    /// Two stalls spin on the CPU (no stack can be taken without a signal), one waits in
    /// read(2) on a pipe (unwound without a signal).
    static func profilerInstalledAfter() {
        let events = EventLog()
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(50)), environment: [:],
            onEvent: { events.append($0) })
        watchdog.start()
        guard lwd_test_profiler_install() == 0, lwd_test_profiler_start(1_000) == 0 else { fail("profiler set-up") }
        var before = lwd_signal_counters()
        lwd_signal_counters_read(&before)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { fail("pipe") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let reading = ReadStarted()
        let loop = HelperThread {
            let heartbeat = watchdog.registerCurrentThread(name: "spinner")
            for _ in 0..<2 {
                heartbeat.markBusy()
                heartbeat.beat()
                helperBlockedInSpin(milliseconds: 300)
                heartbeat.markIdle()
                sleepMilliseconds(100)
            }
            heartbeat.markBusy()
            heartbeat.beat()
            reading.flag.store(true, ordering: .releasing)
            helperBlockedInPipeRead(readEnd)
            heartbeat.markIdle()
            sleepMilliseconds(100)
            heartbeat.unregister()
        }
        // The read blocks for 300 ms from when it starts, however long the spins took under
        // the profiler's signals on a loaded machine.
        for _ in 0..<10_000 where !reading.flag.load(ordering: .acquiring) { sleepMilliseconds(1) }
        sleepMilliseconds(300)
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        loop.join()
        watchdog.stop()
        _ = lwd_test_profiler_stop()
        sleepMilliseconds(50)
        var total: UInt64 = 0
        var fromUs: UInt64 = 0
        lwd_test_profiler_counts(&total, &fromUs)
        var after = lwd_signal_counters()
        lwd_signal_counters_read(&after)
        var fields = eventFields(events.all)
        fields["profiler_total"] = total
        fields["profiler_saw_ours"] = fromUs
        fields["ours"] = after.ours - before.ours
        fields["forwarded"] = after.forwarded - before.forwarded
        fields["watchdog_handler_installed"] = lwd_signal_capture_is_installed()
        fields["profiler_handler_installed"] = lwd_test_profiler_is_installed()
        printResult(fields)
    }
}

/// Set by the loop thread right before it blocks in read(2).
final class ReadStarted: Sendable {
    let flag = Atomic<Bool>(false)
}
