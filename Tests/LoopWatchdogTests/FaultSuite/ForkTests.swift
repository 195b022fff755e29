import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// fork() in a host running the watchdog: the child must not inherit a half-running one.
    @Suite(.serialized)
    struct ForkTests {
        /// Fork while a capture is in flight (its lock held, its request slot armed, by a
        /// thread the child will not have). The child, which runs only C code and _exits,
        /// must be able to capture at once: without the pthread_atfork reset it would wait
        /// forever on the inherited lock (alarm(10) then kills it, and this test fails).
        @Test(.disabled(if: Sanitizer.thread, "ThreadSanitizer's fork interceptor and deferred signals make the child's self-capture wait for its own safe points"))
        func childCanCaptureWhileTheParentWasMidCapture() throws {
            // A target that blocks SIGPROF: the capture below waits its whole timeout.
            let stop = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
            stop.initialize(to: 0)
            defer { stop.deallocate() }
            let flag = UnsafeSendable(stop)
            let targetTID = Atomic<Int32>(0)
            let target = try #require(
                PlainThread.start(name: "masked-target") {
                    _ = lwd_test_block_sigprof(1)
                    targetTID.store(lwd_gettid(), ordering: .releasing)
                    while lwd_test_flag_is_raised(flag.value) == 0 { usleep(1_000) }
                })
            while targetTID.load(ordering: .acquiring) == 0 { usleep(100) }
            try #require(lwd_signal_capture_install() == 0)

            let captureStatus = Atomic<Int32>(-1)
            let capturing = try #require(
                PlainThread.start(name: "in-flight") {
                    var frames = [UInt](repeating: 0, count: 8)
                    var count: Int32 = 0
                    var interrupted: Int64 = 0
                    var error: Int32 = 0
                    let status = frames.withUnsafeMutableBufferPointer { buffer in
                        lwd_capture_by_signal(
                            targetTID.load(ordering: .acquiring), -1, 2_000_000_000, buffer.baseAddress, nil, 8,
                            &count, &interrupted, &error)
                    }
                    captureStatus.store(Int32(status.rawValue), ordering: .releasing)
                })
            usleep(200_000)  // the capture is now waiting, holding its lock
            let childStatus = lwd_test_fork_and_capture_in_child(10)
            capturing.join()
            lwd_test_flag_raise(stop)
            target.join()
            #expect(childStatus == 0, "child: \(childStatus) (142 = killed by SIGALRM: deadlocked)")
            #expect(captureStatus.load(ordering: .acquiring) == Int32(LWD_CAPTURE_TIMED_OUT.rawValue))
        }

        /// A host process (the helper) forks while its watchdog runs and the child goes on in
        /// Swift: the inherited watchdog is inert there (not running, stop() returns, a
        /// registration is ignored), a fresh one works, and the parent's keeps working.
        /// `Watchdog.start()` in a fork child replaces the inherited shared watchdog with a
        /// running one and releases the inherited one there, though the parent's watchdog
        /// thread was asleep on its condition variable at the fork (on glibc versions whose
        /// pthread_cond_destroy waits for waiters this would hang: alarm(10) gives 142).
        @Test(.disabled(if: Sanitizer.thread, "ThreadSanitizer does not support starting threads in the child of a multi-threaded fork (it exits with 66)"))
        func releasingTheInheritedSharedWatchdogInTheChildDoesNotHang() async throws {
            let (result, child) = try await ChildProcess.runHelper(["fork-shared"])
            #expect(int(result, "child_exit") == 0, "\(result) \(child.standardError.suffix(2_000))")
            #expect(result["parent_running"] as? Bool == true, "\(result)")
        }

        @Test(.disabled(if: Sanitizer.thread, "ThreadSanitizer does not support starting threads in the child of a multi-threaded fork (it exits with 66)"))
        func childGetsAnInertWatchdogAndCanStartItsOwn() async throws {
            let (result, child) = try await ChildProcess.runHelper(["fork"])
            #expect(int(result, "child_exit") == 0, "\(child.standardOutput)\n\(child.standardError.suffix(2_000))")
            #expect(int(result, "began") == 1 && int(result, "ended") == 1, "\(result)")
            let symbols = result["began_symbols"] as? [String] ?? []
            #expect(symbols.first?.contains("helperBlockedInSleep") == true, "\(symbols)")
            // The child's own result line: its fresh watchdog reported its stall.
            let childLine = child.standardOutput.split(separator: "\n").first { $0.contains("\"role\":\"child\"") }
            #expect(childLine?.contains("\"began\":1") == true, "\(child.standardOutput)")
        }
    }
}
