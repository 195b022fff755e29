import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// SIGPROF is shared: another user of it (a setitimer profiler) installed before or after
    /// ours, and threads that block it.
    @Suite
    struct SharedSIGPROFTests {
        /// `kill -PROF` from another process, with no other SIGPROF handler: SIGPROF's
        /// default action ends the process, as it would without the watchdog (it was
        /// swallowed before), after the watchdog has sent its own signals.
        @Test func sigprofFromAnotherProcessTerminatesAsWithoutTheWatchdog() async throws {
            let child = try ChildProcess(
                ChildProcess.helper, ["busy-loop"], environment: ["LOOP_WATCHDOG_THRESHOLD": "30ms"])
            try await child.waitForOutput(containing: "READY")
            // Long enough for stalls of the 40 ms spins to be captured with our signals.
            try await Task.sleep(for: .milliseconds(500))
            #expect(child.standardError.contains("stall"), "\(child.standardError.suffix(2_000))")
            child.send(SIGPROF)
            let status = try await child.waitForExit(timeout: .seconds(20))
            #expect(status == 128 + SIGPROF, "\(child.standardError.suffix(2_000))")
        }

        /// The profiler first: our handler chains to it. Every SIGPROF it gets afterwards
        /// came through our handler, none of ours reaches it, none of ours is lost.
        @Test func profilerInstalledBeforeStillGetsEverySignalAndNeverOurs() async throws {
            let (result, _) = try await ChildProcess.runHelper(["profiler-before"])
            #expect(int(result, "profiler_direct") > 0, "\(result)")
            #expect(int(result, "profiler_through_watchdog") > 0, "\(result)")
            #expect(int(result, "profiler_through_watchdog") == int(result, "forwarded"), "\(result)")
            #expect(int(result, "profiler_saw_ours") == 0, "\(result)")
            #expect(int(result, "began") == 3 && int(result, "ended") == 3, "\(result)")
            #expect(result["captures"] as? [String] == ["signal", "signal", "signal"], "\(result)")
            // One signal per sample (the began stack is the first), none more.
            #expect(int(result, "samples") >= 6, "\(result)")
            #expect(int(result, "ours") == int(result, "samples"), "\(result)")
            #expect(int(result, "samples_by_signal") + int(result, "samples_other") == int(result, "samples"), "\(result)")
            #expect(int(result, "late_dropped") == 0, "\(result)")
            // Under ThreadSanitizer the handler runs at TSan's next safe point, not where
            // the thread was: the counts above hold, the interrupted frame does not.
            let symbols = result["began_symbols"] as? [String] ?? []
            if !Sanitizer.thread {
                #expect(symbols.allSatisfy { $0.contains("helperBlockedInSpin") }, "\(symbols)")
            }
        }

        /// A profiler installed after ours replaces our handler without chaining: we send no
        /// signal any more (it never sees one of ours), say so once, and still unwind a
        /// thread parked in a system call without a signal.
        @Test func profilerInstalledAfterReplacesOursCleanly() async throws {
            let (result, child) = try await ChildProcess.runHelper(["profiler-after"])
            #expect(int(result, "watchdog_handler_installed") == 0)
            #expect(int(result, "profiler_handler_installed") == 1)
            #expect(int(result, "profiler_total") > 0, "\(result)")
            #expect(int(result, "profiler_saw_ours") == 0, "\(result)")
            #expect(int(result, "ours") == 0, "\(result)")
            #expect(int(result, "forwarded") == 0, "\(result)")
            #expect(
                result["captures"] as? [String] == ["sigprof-handler-replaced", "sigprof-handler-replaced", "syscall"],
                "\(result)")
            let symbols = result["began_symbols"] as? [String] ?? []
            #expect(symbols.last?.contains("read") == true, "\(symbols)")
            if !Sanitizer.thread {  // TSan's read interceptor keeps no frame record, and
                // the scanning unwinder may then skip the caller (RELIABILITY.md, limits)
                #expect(symbols.last?.contains("helperBlockedInPipeRead") == true, "\(symbols)")
            }
            let warnings = child.standardError.split(separator: "\n").filter { $0.contains("SIGPROF handler was replaced") }
            #expect(warnings.count == 1, "\(child.standardError.suffix(2_000))")
        }

        /// A loop thread that blocks SIGPROF and spins: reported, with the reason in place of
        /// the stack; then the same thread parked in read(2): reported with a signal-free
        /// stack. The watchdog never waits for a signal that cannot arrive.
        @Test func loopThatBlocksSIGPROFIsReportedWithTheReasonOrASignalFreeStack() throws {
            let events = EventCollector()
            let watchdog = quietWatchdog(threshold: .milliseconds(50), events: events)
            watchdog.start()
            defer { watchdog.stop() }
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            defer { close(fds[0]); close(fds[1]) }
            let readEnd = fds[0]
            let loop = try ScriptedLoop(watchdog: watchdog, name: "masked")
            loop.run([
                .block { _ = lwd_test_block_sigprof(1) },
                .idle(milliseconds: 20),
                .block { spinFor(milliseconds: 300) },
                .idle(milliseconds: 100),
                .block { readOneByteFromPipe(readEnd) },
                .idle(milliseconds: 100),
                .block { _ = lwd_test_block_sigprof(0) },
            ], releasing: {
                waitUntilParked(loop.threadID, inSystemCall: 0)  // read(2) on x86_64
                usleep(300_000)
                var byte: UInt8 = 1
                _ = write(fds[1], &byte, 1)
            })
            watchdog.stop()
            let began = events.all.filter { $0.kind == .began }
            try #require(began.count == 2, "\(events.all)")
            #expect(began[0].capture == .unavailable("sigprof-blocked"))
            #expect(began[0].frames.isEmpty)
            #expect(began[1].capture == .syscall)
            if !Sanitizer.thread {  // TSan's read interceptor keeps no frame record, and
                // the scanning unwinder may then skip the caller (RELIABILITY.md, limits)
                #expect(began[1].frames.contains { $0.symbol?.contains("readOneByteFromPipe") == true }, "\(began[1].frames)")
            }
            #expect(events.all.filter { $0.kind == .ended }.count == 2)
        }

        /// A thread that blocks and unblocks SIGPROF every 50 us while it is captured over
        /// and over: each capture ends within its timeout (stack, reason, or timed out),
        /// nothing hangs or crashes, and the process stays alive once the thread unblocks a
        /// signal left pending.
        @Test(.disabled(if: Sanitizer.thread, "ThreadSanitizer defers asynchronous signals to its own safe points, so the handler runs late by design there"))
        func flappingSignalMaskNeverHangsACapture() throws {
            let target = try FlaggedThread(name: "flapper") { lwd_test_flap_sigprof_mask($0) }
            let capturer = StackCapturer(maxFrames: 64)
            var outcomes: [String: Int] = [:]
            var slowest: Int64 = 0
            // At least 200 captures, and on until one caught the mask open: on a loaded machine
            // the flapper can be preempted in its blocked half for many captures in a row. A
            // short pause between captures lets it run.
            var captures = 0
            while captures < 200 || ((outcomes["signal"] ?? 0) == 0 && captures < 5_000) {
                let start = lwd_monotonic_ns()
                let capture = target.capture(with: capturer)
                slowest = max(slowest, lwd_monotonic_ns() - start)
                outcomes[capture.outcome.description, default: 0] += 1
                captures += 1
                usleep(50)
            }
            target.stop()
            let allowed: Set<String> = ["signal", "sigprof-blocked", "signal-timed-out"]
            #expect(Set(outcomes.keys).isSubset(of: allowed), "\(outcomes)")
            #expect((outcomes["signal"] ?? 0) > 0, "\(outcomes)")
            // Bounded by the 50 ms signal timeout plus the 1 s grace of a running handler
            // (and, on a loaded machine, a wait for the capture lock).
            #expect(slowest < 5_000_000_000, "\(slowest) ns")
        }
    }
}

/// Spins on the CPU for `milliseconds` of monotonic time.
@inline(never)
func spinFor(milliseconds: Int64) {
    let end = lwd_monotonic_ns() + milliseconds * 1_000_000
    var spins: UInt64 = 0
    while lwd_monotonic_ns() < end { spins &+= 1 }
    blackHole(spins)
}

/// Waits until thread `tid` is parked in system call `number` (per /proc), at most 30 s.
func waitUntilParked(_ tid: Int32, inSystemCall number: Int64) {
    for _ in 0..<30_000 {
        var state = lwd_syscall_state()
        if lwd_read_syscall_state(tid, &state) == 0, state.running == 0, state.number == number { return }
        usleep(1_000)
    }
}

