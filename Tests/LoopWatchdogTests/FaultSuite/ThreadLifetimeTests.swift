import CLoopWatchdog
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

extension FaultSuite {
    /// Loop threads that exit between detection and capture, and thread ids handed to a new
    /// thread: no signal may reach the wrong thread, and no stack of the wrong thread may be
    /// reported.
    @Suite(.serialized)
    struct ThreadLifetimeTests {
        /// A record for a thread that registered and exited.
        private func recordOfExitedThread() throws -> LoopRecord {
            let holder = Mutex<LoopRecord?>(nil)
            let thread = try #require(PlainThread.start(name: "gone") { holder.withLock { $0 = LoopRecord(name: "gone") } })
            thread.join()
            return try #require(holder.withLock { $0 })
        }

        @Test func captureOfAnExitedThreadSaysSoAndSendsNothing() throws {
            let record = try recordOfExitedThread()
            var before = lwd_signal_counters()
            lwd_signal_counters_read(&before)
            let capture = StackCapturer(maxFrames: 64).capture(
                threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh)
            #expect(capture.outcome == .unavailable("thread-exited"))
            #expect(capture.addresses.isEmpty)
            // The signal path itself: the pidfd refuses with ESRCH, nothing is sent.
            var frames = [UInt](repeating: 0, count: 8)
            var count: Int32 = 0
            var interrupted: Int64 = 0
            var error: Int32 = 0
            let status = frames.withUnsafeMutableBufferPointer { buffer in
                lwd_capture_by_signal(record.thread!.threadID, record.thread!.pidfd, 50_000_000, buffer.baseAddress, nil, 8, &count, &interrupted, &error)
            }
            #expect(status == LWD_CAPTURE_THREAD_GONE)
            #expect(lwd_thread_pidfd_alive(record.thread!.pidfd) == 0)
            var after = lwd_signal_counters()
            lwd_signal_counters_read(&after)
            #expect(after.ours == before.ours)
        }

        /// The exited loop's tid is given to a new thread (by setting ns_last_pid, which needs
        /// CAP_SYS_ADMIN; retried because other processes take pids too). Capturing the old
        /// loop must say it exited: not unwind the new thread while it is parked, not signal
        /// it while it runs.
        @Test(.enabled(if: access("/proc/sys/kernel/ns_last_pid", W_OK) == 0, "needs a writable /proc/sys/kernel/ns_last_pid (root with CAP_SYS_ADMIN)"))
        func recycledThreadIDNeverGetsTheOldLoopsCapture() throws {
            let record = try recordOfExitedThread()
            let capturer = StackCapturer(maxFrames: 64)
            for mode in ["parked", "running"] {
                let stop = Atomic<Bool>(false)
                let newTID = Atomic<Int32>(0)
                var thread: PlainThread?
                for _ in 0..<200 {
                    guard let file = fopen("/proc/sys/kernel/ns_last_pid", "w") else { break }
                    fputs("\(record.thread!.threadID - 1)", file)
                    fclose(file)
                    let started = PlainThread.start(name: "recycled") {
                        newTID.store(lwd_gettid(), ordering: .releasing)
                        while !stop.load(ordering: .relaxed) {
                            if mode == "parked" { usleep(10_000) } else { spinFor(milliseconds: 1) }
                        }
                    }
                    while newTID.load(ordering: .acquiring) == 0 { usleep(100) }
                    if newTID.load(ordering: .acquiring) == record.thread!.threadID {
                        thread = started
                        break
                    }
                    stop.store(true, ordering: .relaxed)
                    started?.join()
                    stop.store(false, ordering: .relaxed)
                    newTID.store(0, ordering: .releasing)
                }
                let recycled = try #require(thread, "could not get tid \(record.thread!.threadID) again")
                usleep(20_000)
                var before = lwd_signal_counters()
                lwd_signal_counters_read(&before)
                for _ in 0..<20 {
                    let capture = capturer.capture(threadID: record.thread!.threadID, pidfd: record.thread!.pidfd, stackHigh: record.thread!.stackHigh)
                    #expect(capture.outcome == .unavailable("thread-exited"), "\(mode): \(capture.outcome)")
                }
                var after = lwd_signal_counters()
                lwd_signal_counters_read(&after)
                #expect(after.ours == before.ours, "\(mode)")
                stop.store(true, ordering: .relaxed)
                recycled.join()
            }
        }

        /// A loop thread that exits in the middle of a stall, without unregistering: the stall
        /// ends (once) when the watchdog notices, and nothing is captured afterwards.
        @Test func loopThatExitsMidStallEndsItsStallOnce() throws {
            let events = EventCollector()
            let watchdog = quietWatchdog(threshold: .milliseconds(30), events: events)
            watchdog.start()
            let thread = try #require(
                PlainThread.start(name: "exits-blocked") {
                    let heartbeat = watchdog.registerCurrentThread(name: "exits-blocked")
                    heartbeat.beat()
                    sleepInUsleep(milliseconds: 200)
                })
            thread.join()
            usleep(200_000)
            watchdog.stop()
            let all = events.all
            #expect(all.filter { $0.kind == .began }.count == 1, "\(all)")
            #expect(all.filter { $0.kind == .ended }.count == 1, "\(all)")
            #expect(all.filter { $0.kind == .continuing }.isEmpty, "\(all)")
        }
    }
}
