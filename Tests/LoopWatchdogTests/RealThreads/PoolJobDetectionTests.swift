import CLoopWatchdog
import Testing

@testable import LoopWatchdog

/// The job-level detector with manual time: a pool worker's record and slot, written as the
/// job watch writes it around one job (`lwd_job_slot_begin` / `lwd_job_slot_end`, the
/// functions the hot path inlines), through the real watchdog thread body and reporter.
@Suite(.serialized)
struct PoolJobDetectionTests {
    static let ms: Int64 = 1_000_000

    @Test func jobPastTheThresholdIsReportedWithItsPriorityAndEndsExactlyWhenItStoredItsEnd() throws {
        let job = try #require(PoolWorkerJob())
        let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), poolJob: job)
        manual.tick(after: .milliseconds(10))
        let tickBefore = manual.now
        // The job starts 1 ms after this tick; the slot stores no start time.
        let start = tickBefore + 1 * Self.ms
        lwd_job_slot_begin(job.slot, TaskPriority.low.rawValue)
        while manual.now < start + 249 * Self.ms {
            manual.tick(after: .milliseconds(10))
        }
        // It ends 250 ms after it started, 1 ms after a tick, and stores its end: it was
        // flagged as stalled when the stall began.
        #expect(job.read().flagged == job.read().sequence)
        lwd_job_slot_end(job.slot, start + 250 * Self.ms)
        manual.tick(after: .milliseconds(10))
        manual.tick(after: .milliseconds(10))
        manual.flush()

        let began = manual.events.all.filter { $0.kind == .began }
        let ended = manual.events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(manual.events.all)")
        try #require(ended.count == 1, "\(manual.events.all)")
        #expect(began[0].loopName == "swift-concurrency-pool.low")
        #expect(began[0].job == PoolJob(priority: TaskPriority.low.rawValue, blockedWorkers: 1, workers: PoolWorkerJob.poolWidth))
        #expect(began[0].blocked >= .milliseconds(100) && began[0].blocked < .milliseconds(120))
        // The start is the middle of the tick window in which the job began (tickBefore +
        // 5 ms, 4 ms late); the end is exact. Taken from the ticks, the end would be the
        // middle of its window too (tickBefore + 255 ms), and the duration 250 ms.
        #expect(ended[0].blocked == .milliseconds(246))
        // Once it ended, no worker of its priority is blocked any more.
        #expect(ended[0].job?.blockedWorkers == 0)
        #expect(manual.events.all.filter { $0.kind == .continuing }.isEmpty)
    }

    @Test func jobThatEndsBeforeItIsFlaggedEndsAtTheMiddleOfItsTickWindow() throws {
        let job = try #require(PoolWorkerJob())
        let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), poolJob: job)
        manual.tick(after: .milliseconds(10))
        lwd_job_slot_begin(job.slot, TaskPriority.medium.rawValue)
        for _ in 0..<9 { manual.tick(after: .milliseconds(10)) }
        // It ends (unflagged: it has not been reported yet) before the tick that would
        // have reported it, and the next job begins at once.
        lwd_job_slot_end(job.slot, manual.now + 5 * Self.ms)
        lwd_job_slot_begin(job.slot, TaskPriority.medium.rawValue)
        manual.tick(after: .milliseconds(10))
        manual.flush()
        #expect(job.read().ended_job == 0)
        #expect(manual.events.all.isEmpty, "\(manual.events.all)")
    }

    @Test func jobsShorterThanTheThresholdAreNeverReported() throws {
        let job = try #require(PoolWorkerJob())
        let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), poolJob: job)
        manual.tick(after: .milliseconds(10))
        // 200 jobs of 90 ms back to back, each begun 1 ms after a tick.
        for _ in 0..<200 {
            lwd_job_slot_begin(job.slot, TaskPriority.high.rawValue)
            for _ in 0..<9 { manual.tick(after: .milliseconds(10)) }
            lwd_job_slot_end(job.slot, 0)
            manual.tick(after: .milliseconds(1))
        }
        manual.flush()
        #expect(job.read().sequence == 400)
        #expect(manual.events.all.isEmpty, "\(manual.events.all)")
    }
}
