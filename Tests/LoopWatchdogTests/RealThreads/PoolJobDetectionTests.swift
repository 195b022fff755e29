import Testing

@testable import LoopWatchdog

/// The job-level detector with manual time: a pool worker's record, marked busy and idle as
/// the job watch marks it around one job, through the real watchdog thread body and reporter.
@Suite(.serialized)
struct PoolJobDetectionTests {
    static let ms: Int64 = 1_000_000

    @Test func jobPastTheThresholdIsReportedWithItsPriorityAndEndsExactlyAtItsIdleMark() throws {
        let job = PoolWorkerJob()
        job.priority.store(TaskPriority.low.rawValue, ordering: .relaxed)
        let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), poolJob: job)
        let record = manual.heartbeat.record
        manual.tick(after: .milliseconds(10))
        // The job starts 1 ms after this tick, as `markBusy()` would mark it.
        let start = manual.now + 1 * Self.ms
        record.busySince.store(start, ordering: .relaxed)
        record.idleSince.store(0, ordering: .sequentiallyConsistent)
        record.bump()
        while manual.now < start + 249 * Self.ms {
            manual.tick(after: .milliseconds(10))
        }
        // It ends 250 ms after it started, between two ticks, as `markIdle()` would mark it.
        record.idleSince.store(start + 250 * Self.ms, ordering: .relaxed)
        record.bump()
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
        #expect(ended[0].blocked == .milliseconds(250))
        #expect(manual.events.all.filter { $0.kind == .continuing }.isEmpty)
    }

    @Test func jobsShorterThanTheThresholdAreNeverReported() throws {
        let job = PoolWorkerJob()
        let manual = try ManualTimeWatchdog(threshold: .milliseconds(100), poolJob: job)
        let record = manual.heartbeat.record
        manual.tick(after: .milliseconds(10))
        // 200 jobs of 90 ms back to back, each marked busy and idle.
        for _ in 0..<200 {
            record.busySince.store(manual.now + 1 * Self.ms, ordering: .relaxed)
            record.idleSince.store(0, ordering: .sequentiallyConsistent)
            record.bump()
            for _ in 0..<9 { manual.tick(after: .milliseconds(10)) }
            record.idleSince.store(manual.now, ordering: .relaxed)
            record.bump()
            manual.tick(after: .milliseconds(1))
        }
        manual.flush()
        #expect(manual.events.all.isEmpty, "\(manual.events.all)")
    }
}
