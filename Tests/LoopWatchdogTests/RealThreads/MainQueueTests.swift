import CLoopWatchdog
import Dispatch
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// The Dispatch main queue watched for real, in the test process. Its main queue may be
/// drained by the main thread or, after `dispatchMain()`, by a dispatch worker: the tests
/// expect the thread that ran the blocking block, whichever it is.
@Suite(.serialized)
struct MainQueueTests {
    @Test func blockedMainQueueIsReportedWithTheMainThreadsStack() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
        watchdog.start()
        let watch = watchdog.watchMainQueue()
        let deadline = lwd_monotonic_ns() + 5_000_000_000
        while !watch.isWatching && lwd_monotonic_ns() < deadline { usleep(5_000) }
        try #require(watch.isWatching, "the main queue ran no probe within 5 s")
        usleep(100_000)
        let blocked = Atomic<Int64>(0)
        let drainer = Atomic<Int32>(0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.main.async {
            drainer.store(lwd_gettid(), ordering: .relaxed)
            blocked.store(blockMainQueue(milliseconds: 300), ordering: .relaxed)
            done.signal()
        }
        done.wait()
        usleep(150_000)
        watch.stop()
        watchdog.stop()

        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].loopName == "main-queue")
        #expect(began[0].threadID == drainer.load(ordering: .relaxed))
        #expect(began[0].frames.contains { $0.symbol?.contains("blockMainQueue") == true }, "\(began[0].frames)")
        let real = blocked.load(ordering: .relaxed)
        let reported = ended[0].blocked.clampedNanoseconds
        #expect(abs(reported - real) <= real / 10, "reported \(reported) ns, real \(real) ns")
    }

    @Test func stoppedWatchReportsNothing() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
        watchdog.start()
        let watch = watchdog.watchMainQueue()
        let deadline = lwd_monotonic_ns() + 5_000_000_000
        while !watch.isWatching && lwd_monotonic_ns() < deadline { usleep(5_000) }
        try #require(watch.isWatching)
        watch.stop()
        #expect(!watch.isWatching)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.main.async {
            blockMainQueue(milliseconds: 250)
            done.signal()
        }
        done.wait()
        usleep(100_000)
        watchdog.stop()
        #expect(events.all.isEmpty, "\(events.all)")
    }
}

/// Blocks the main thread in a sleep; returns how long, so the call is not in tail position.
@inline(never)
@discardableResult
func blockMainQueue(milliseconds: Int) -> Int64 {
    let start = lwd_monotonic_ns()
    usleep(UInt32(milliseconds) * 1_000)
    return lwd_monotonic_ns() - start
}
