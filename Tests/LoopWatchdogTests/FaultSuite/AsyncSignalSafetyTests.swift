import CLoopWatchdog
import CLoopWatchdogTestSupport
import Glibc
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// The SIGPROF handler touches only async-signal-safe code (see the review at the top of
    /// signal_capture.c). These tests interrupt threads in the two places where a handler
    /// that was not would deadlock: inside malloc (holding an arena lock) and inside
    /// dl_iterate_phdr (holding the dynamic loader's lock, which libunwind takes too).
    @Suite(.serialized, .disabled(if: Sanitizer.thread, "ThreadSanitizer defers asynchronous signals to its own safe points, so the interrupted frame is not where the thread was"))
    struct AsyncSignalSafetyTests {
        /// Captures a thread running `work` `times` times by signal; returns every capture.
        private func captureRepeatedly(
            times: Int, _ work: @escaping @Sendable (UnsafeMutablePointer<Int32>) -> Void
        ) throws -> [StackCapturer.Capture] {
            let target = try FlaggedThread(name: "delicate", work)
            usleep(20_000)
            let capturer = StackCapturer(maxFrames: 64)
            var captures: [StackCapturer.Capture] = []
            for _ in 0..<times {
                captures.append(target.capture(with: capturer))
                usleep(500)
            }
            target.stop()
            return captures
        }

        /// The successful captures, at most `limit` of them (symbolicating hundreds takes
        /// minutes under AddressSanitizer).
        private func sample(_ captures: [StackCapturer.Capture], limit: Int = 60) -> [StackCapturer.Capture] {
            Array(captures.filter { $0.outcome == .signal }.prefix(limit))
        }

        /// Symbol names of a capture, through the real symbolicator.
        private func symbols(_ capture: StackCapturer.Capture, _ symbolicator: Symbolicator) -> [String] {
            symbolicator.symbolicate(capture.addresses, firstIsProgramCounter: true).compactMap(\.symbol)
        }

        /// Every capture returns; on a loaded machine a few may time out (the target was not
        /// scheduled within 50 ms), and under AddressSanitizer a few find SIGPROF blocked
        /// (its dl_iterate_phdr interceptor blocks signals for a moment); never anything else.
        private func expectCompleted(_ captures: [StackCapturer.Capture]) {
            let outcomes = Set(captures.map(\.outcome.description))
            #expect(outcomes.isSubset(of: ["signal", "signal-timed-out", "sigprof-blocked"]), "\(outcomes)")
            #expect(captures.filter { $0.outcome == .signal }.count * 2 > captures.count, "\(outcomes)")
        }

        @Test func capturesAThreadInsideMalloc() throws {
            let captures = try captureRepeatedly(times: 300) { stop in _ = lwd_test_hammer_malloc(stop) }
            expectCompleted(captures)
            let symbolicator = Symbolicator()
            let named = sample(captures).map { symbols($0, symbolicator) }
            #expect(named.allSatisfy { $0.contains("lwd_test_hammer_malloc") }, "\(named.prefix(3))")
            // Interrupted inside the allocator itself: its frames sit above the caller's.
            let insideAllocator = named.filter { frames in
                guard let caller = frames.firstIndex(of: "lwd_test_hammer_malloc"), caller > 0 else { return false }
                return frames[..<caller].contains { $0.contains("malloc") || $0.contains("free") }
            }
            #expect(insideAllocator.count > 5, "\(named.prefix(5))")
        }

        @Test func capturesAThreadInsideDlIteratePhdr() throws {
            let captures = try captureRepeatedly(times: 100) { stop in _ = lwd_test_iterate_phdr_slowly(stop) }
            expectCompleted(captures)
            let symbolicator = Symbolicator()
            let named = sample(captures).map { symbols($0, symbolicator) }
            let inCallback = named.filter { frames in
                frames.contains("lwd_test_slow_phdr_callback") && frames.contains { $0.contains("dl_iterate_phdr") }
                    && frames.contains("lwd_test_iterate_phdr_slowly")
            }
            #expect(inCallback.count * 2 > named.count, "\(named.prefix(3))")
        }
    }
}
