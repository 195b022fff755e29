import CLoopWatchdog
import CLoopWatchdogTestSupport
import Dispatch
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// The job-level watch of the Swift Concurrency pool, with real tasks on the real pool:
/// one blocking call inside an async function, which takes one worker of N and never starves
/// the pool, is reported on its own.
@Suite(.serialized)
struct PoolJobTests {
    /// A watchdog at `threshold` watching jobs only (no starvation probes).
    static func watching(_ events: EventCollector, threshold: Duration = .milliseconds(100)) -> (Watchdog, ConcurrencyPoolWatch) {
        let watchdog = quietWatchdog(threshold: threshold, events: events)
        watchdog.start()
        let watch = watchdog.watchConcurrencyPool(priorities: [])
        return (watchdog, watch)
    }

    /// Runs `body` in a detached task of `priority` and waits for it from this thread.
    static func runTask<T: Sendable>(priority: TaskPriority = .medium, _ body: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached(priority: priority) {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    @Test func oneBlockedJobIsReportedWithItsWorkersStackAndExactDuration() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        #expect(watch.watchesJobs)
        usleep(50_000)
        let (tid, blocked) = Self.runTask { (lwd_gettid(), await blockInAsyncHandler(milliseconds: 300)) }
        usleep(50_000)
        watch.stop()
        watchdog.stop()

        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].threadID == tid)
        #expect(!began[0].isPool)
        #expect(began[0].loopName == "swift-concurrency-pool.medium")
        let job = try #require(began[0].job)
        #expect(job.priority == TaskPriority.medium.rawValue)
        #expect(job.blockedWorkers == 1)
        #expect(job.workers == PoolWorkerJob.poolWidth)
        #expect(began[0].frames.contains { $0.symbol?.contains("blockInAsyncHandler") == true }, "\(began[0].frames)")
        let reported = ended[0].blocked.clampedNanoseconds
        #expect(abs(reported - blocked) <= blocked / 10, "reported \(reported) ns, real \(blocked) ns")
    }

    @Test func aJobThatBlocksAfterTheWatchdogRestedIsDatedFromItsStart() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        // Register a worker, then let nothing run: the watchdog rests, 50 ms between ticks,
        // and the job's start wakes it.
        _ = Self.runTask { 1 }
        usleep(600_000)
        let blocked = Self.runTask { await blockInAsyncHandler(milliseconds: 300) }
        usleep(50_000)
        watch.stop()
        watchdog.stop()
        let ended = events.all.filter { $0.kind == .ended }
        try #require(ended.count == 1, "\(events.all)")
        let reported = ended[0].blocked.clampedNanoseconds
        // Without the wake-up, the start would be known to 25 ms only.
        #expect(abs(reported - blocked) <= 8_000_000, "reported \(reported) ns, real \(blocked) ns")
    }

    @Test func thousandsOfShortJobsAreNeverReported() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events, threshold: .milliseconds(50))
        // Started from this thread, not from a job: each job is one short task.
        let tally = ConcurrencyTally()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<20_000 {
            Task.detached {
                tally.started()
                tally.finished()
                done.signal()
            }
        }
        for _ in 0..<20_000 { done.wait() }
        let total = tally.count
        // Short jobs with suspensions between them.
        let yields = Self.runTask {
            var count = 0
            for _ in 0..<5_000 {
                await Task.yield()
                count += 1
            }
            return count
        }
        usleep(100_000)
        watch.stop()
        watchdog.stop()
        #expect(total == 20_000)
        #expect(yields == 5_000)
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func priorityAndWidthAreThoseOfTheUnwatchedPool() throws {
        let width = PoolWorkerJob.poolWidth
        let unwatched = Self.concurrencyOfBlockingTasks(count: 2 * width, priority: .low)
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events, threshold: .seconds(5))
        let watched = Self.concurrencyOfBlockingTasks(count: 2 * width, priority: .low)
        let priority = Self.runTask(priority: .low) { Task.currentPriority }
        watch.stop()
        watchdog.stop()
        // As many threads at once, never more than the pool's width, at the same priority.
        #expect(unwatched.maximum == width, "unwatched \(unwatched)")
        #expect(watched.maximum == unwatched.maximum, "watched \(watched), unwatched \(unwatched)")
        #expect(watched.threads.count >= width)
        #expect(priority == .low)
    }

    /// Starts `count` tasks that each block 100 ms, waits for all, and returns the most that
    /// ran at once and the threads that ran them.
    static func concurrencyOfBlockingTasks(count: Int, priority: TaskPriority) -> (maximum: Int, threads: Set<Int32>) {
        let tally = ConcurrencyTally()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Task.detached(priority: priority) {
                tally.started()
                _ = await blockInAsyncHandler(milliseconds: 100)
                tally.finished()
                done.signal()
            }
        }
        for _ in 0..<count { done.wait() }
        return tally.result
    }

    @Test func delayedResumptionsRunWatchedAndOnTime() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        let (slept, blocked) = Self.runTask { () -> (Int64, Int64) in
            let start = lwd_monotonic_ns()
            try? await Task.sleep(for: .milliseconds(150))
            let slept = lwd_monotonic_ns() - start
            return (slept, await blockInAsyncHandler(milliseconds: 250))
        }
        usleep(50_000)
        watch.stop()
        watchdog.stop()
        #expect(slept >= 150_000_000 && slept < 1_000_000_000, "slept \(slept) ns")
        let ended = events.all.filter { $0.kind == .ended }
        try #require(ended.count == 1, "\(events.all)")
        let reported = ended[0].blocked.clampedNanoseconds
        #expect(abs(reported - blocked) <= blocked / 10, "reported \(reported) ns, real \(blocked) ns")
    }

    @Test func jobsThatThrowOrAreCancelledKeepThePoolWorking() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        struct Failure: Error {}
        let thrown = Self.runTask { () -> Bool in
            do {
                _ = try await Task.detached { () async throws -> Int in
                    _ = await blockInAsyncHandler(milliseconds: 200)
                    throw Failure()
                }.value
                return false
            } catch {
                return error is Failure
            }
        }
        let cancelled = Self.runTask { () -> Bool in
            let sleeper = Task.detached { () async -> Bool in
                do {
                    try await Task.sleep(for: .seconds(30))
                    return false
                } catch {
                    return error is CancellationError
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
            sleeper.cancel()
            return await sleeper.value
        }
        let after = Self.runTask { 41 + 1 }
        usleep(50_000)
        watch.stop()
        watchdog.stop()
        #expect(thrown)
        #expect(cancelled)
        #expect(after == 42)
        #expect(events.all.filter { $0.kind == .began }.count == 1, "\(events.all)")
        #expect(events.all.filter { $0.kind == .ended }.count == 1, "\(events.all)")
    }

    @Test func workerThatExitsIsUnregisteredAndForgotten() throws {
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        defer {
            watch.stop()
            watchdog.stop()
        }
        let tid = Mutex<Int32>(0)
        let thread = try #require(PlainThread.start(name: "short-worker") {
            PoolJobWatch.runAsJob(priority: TaskPriority.low.rawValue) {
                tid.withLock { $0 = lwd_gettid() }
            }
        })
        thread.join()
        let threadID = tid.withLock { $0 }
        // Registered by its job, forgotten once it exited.
        #expect(PoolJobWatch.knownWorkerThreads()?.contains(threadID) == false)
        let records = watchdog.registry.liveRecords()
        #expect(!records.contains { $0.thread?.threadID == threadID }, "the exited worker is still registered")
        #expect(events.all.isEmpty)
    }

    @Test func stopPutsTheRuntimesHooksBackAndReportsNoMoreJobs() throws {
        let before = lwd_test_enqueue_hook()
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        #expect(lwd_test_enqueue_hook() != before)
        watch.stop()
        #expect(lwd_test_enqueue_hook() == before)
        _ = Self.runTask { await blockInAsyncHandler(milliseconds: 250) }
        usleep(50_000)
        watchdog.stop()
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func aHookInstalledBeforeKeepsEveryJob() throws {
        try #require(lwd_test_enqueue_hook() == nil, "another hook is installed")
        try #require(lwd_test_counting_hook_install() == 1)
        defer { _ = lwd_test_counting_hook_uninstall() }
        let events = EventCollector()
        let (watchdog, watch) = Self.watching(events)
        #expect(!watch.watchesJobs)
        let before = lwd_test_counting_hook_count()
        let sum = Self.runTask {
            await withTaskGroup(of: Int.self) { group in
                for index in 0..<100 { group.addTask { index } }
                return await group.reduce(0, +)
            }
        }
        #expect(sum == 4_950)
        #expect(lwd_test_counting_hook_count() - before >= 100)
        watch.stop()
        watchdog.stop()
        // Put back as it was: the counting hook, which can then be removed.
        #expect(lwd_test_counting_hook_uninstall() == 1)
        #expect(lwd_test_counting_hook_install() == 1)
    }
}

/// The commonest mistake in a Swift server: a blocking call inside an async function.
/// Returns how long it blocked; the work after the call keeps it out of tail position.
@inline(never)
func blockInAsyncHandler(milliseconds: Int) async -> Int64 {
    let start = lwd_monotonic_ns()
    usleep(UInt32(milliseconds) * 1_000)
    return lwd_monotonic_ns() - start
}

/// How many tasks ran at once, at most, and on which threads.
final class ConcurrencyTally: Sendable {
    private struct State {
        var running = 0
        var maximum = 0
        var count = 0
        var threads: Set<Int32> = []
    }
    private let state = Mutex(State())

    func started() {
        state.withLock { state in
            state.running += 1
            state.count += 1
            state.maximum = max(state.maximum, state.running)
            state.threads.insert(lwd_gettid())
        }
    }

    func finished() {
        state.withLock { $0.running -= 1 }
    }

    /// How many tasks started.
    var count: Int { state.withLock { $0.count } }

    var result: (maximum: Int, threads: Set<Int32>) {
        state.withLock { ($0.maximum, $0.threads) }
    }
}
