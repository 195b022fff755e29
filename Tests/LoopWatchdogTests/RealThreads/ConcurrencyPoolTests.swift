import CLoopWatchdog
import CLoopWatchdogTestSupport
import Dispatch
import Glibc
import Logging
import Synchronization
import Testing

@testable import LoopWatchdog

/// The Swift Concurrency pool watched for real: blocking calls inside async functions starve
/// it. The tests starve the `.low` pool, which nothing else in the test process uses, so
/// that tests running at the same time neither disturb nor notice it.
@Suite(.serialized)
struct ConcurrencyPoolTests {
    /// The pool's width on Linux: one thread per online core.
    static let width = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    @Test func starvedPoolIsReportedOnceWithEveryBusyWorkersStack() throws {
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
        watchdog.start()
        let watch = watchdog.watchConcurrencyPool(priorities: [.low], jobs: false)
        #expect(watch.poolNames == ["swift-concurrency-pool.low"])
        usleep(200_000)
        let runs = starvePool(tasks: Self.width, milliseconds: 400)
        usleep(200_000)
        watch.stop()
        watchdog.stop()

        let began = events.all.filter { $0.kind == .began }
        let ended = events.all.filter { $0.kind == .ended }
        try #require(began.count == 1, "\(events.all)")
        try #require(ended.count == 1, "\(events.all)")
        #expect(began[0].loopName == "swift-concurrency-pool.low")
        #expect(began[0].isPool)
        #expect(Set(began[0].threads.map(\.threadID)) == Set(runs.map(\.threadID)), "\(began[0].threads)")
        for thread in began[0].threads {
            #expect(thread.capture.hasStack, "\(thread)")
            #expect(thread.frames.contains { $0.symbol?.contains("blockPoolWorker") == true }, "\(thread.frames)")
        }
        // Starved from the moment the last worker was taken to the moment the first was free.
        let starved = (runs.map(\.end).min() ?? 0) - (runs.map(\.start).max() ?? 0)
        let reported = ended[0].blocked.clampedNanoseconds
        #expect(ended[0].stallID == began[0].stallID)
        #expect(abs(reported - starved) <= starved / 10, "reported \(reported) ns, starved \(starved) ns")
    }

    @Test func aPoolAtRestIsNotProbed() throws {
        try #require(lwd_test_enqueue_hook() == nil, "another hook is installed")
        try #require(lwd_test_counting_hook_install() == 1)
        defer { _ = lwd_test_counting_hook_uninstall() }
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
        watchdog.start()
        let watch = watchdog.watchConcurrencyPool(priorities: [.low], jobs: false)
        usleep(300_000)
        let before = lwd_test_counting_hook_count()
        usleep(1_000_000)
        let probes = lwd_test_counting_hook_count() - before
        watch.stop()
        watchdog.stop()
        // Probed at every tick, it would have taken about a hundred.
        #expect(probes <= 3, "\(probes) probes in 1 s")
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func poolWithAFreeWorkerIsNotReported() throws {
        try #require(Self.width >= 2, "needs a pool of at least two threads")
        let events = EventCollector()
        let watchdog = quietWatchdog(threshold: .milliseconds(100), events: events)
        watchdog.start()
        let watch = watchdog.watchConcurrencyPool(priorities: [.low], jobs: false)
        usleep(200_000)
        // One thread short of starving it: new work still finds a worker.
        let runs = starvePool(tasks: Self.width - 1, milliseconds: 400)
        usleep(100_000)
        watch.stop()
        watchdog.stop()
        #expect(runs.count == Self.width - 1)
        #expect(events.all.isEmpty, "\(events.all)")
    }

    @Test func parkedWorkerIsToldFromABusyOne() throws {
        try #require(Self.width >= 2, "needs a pool of at least two threads")
        let workers = PoolWorkers()
        let busy = Atomic<Int32>(0)
        let idle = Atomic<Int32>(0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Task.detached(priority: .low) {
            workers.noteCurrentThread()
            busy.store(lwd_gettid(), ordering: .releasing)
            _ = await blockPoolWorker(milliseconds: 600)
            done.signal()
        }
        while busy.load(ordering: .acquiring) == 0 { usleep(1_000) }
        Task.detached(priority: .low) {
            workers.noteCurrentThread()
            idle.store(lwd_gettid(), ordering: .releasing)
            release.signal()
        }
        release.wait()
        usleep(100_000)
        let capturer = StackCapturer(maxFrames: 64)
        let symbolicator = Symbolicator()
        let stacks = workers.candidates().map { worker in
            let capture = capturer.capture(threadID: worker.threadID, pidfd: -1, stackHigh: worker.stackHigh)
            return ThreadStack(
                threadID: worker.threadID, name: worker.name, capture: capture.outcome,
                frames: symbolicator.symbolicate(capture.addresses, firstIsProgramCounter: true))
        }
        done.wait()
        let busyStack = try #require(stacks.first { $0.threadID == busy.load(ordering: .acquiring) })
        let idleStack = try #require(stacks.first { $0.threadID == idle.load(ordering: .acquiring) })
        #expect(!IdleWorker.isParked(busyStack), "\(busyStack.frames)")
        #expect(IdleWorker.isParked(idleStack), "\(idleStack.frames)")
        #expect(workers.threadName == busyStack.name)
    }
}

/// When and where one blocking task ran.
struct PoolRun: Sendable {
    var threadID: Int32
    var start: Int64
    var end: Int64
}

/// Starts `tasks` detached tasks of priority `.low` that each block their worker for
/// `milliseconds`, and waits for them from this (non-pool) context without awaiting them,
/// so that no task is escalated to another pool.
func starvePool(tasks: Int, milliseconds: Int) -> [PoolRun] {
    let done = DispatchSemaphore(value: 0)
    let collector = PoolRunCollector()
    for _ in 0..<tasks {
        Task.detached(priority: .low) {
            let start = lwd_monotonic_ns()
            _ = await blockPoolWorker(milliseconds: milliseconds)
            collector.append(PoolRun(threadID: lwd_gettid(), start: start, end: lwd_monotonic_ns()))
            done.signal()
        }
    }
    for _ in 0..<tasks { done.wait() }
    return collector.all
}

/// Collects the runs from the tasks.
final class PoolRunCollector: Sendable {
    private let runs = Mutex<[PoolRun]>([])
    var all: [PoolRun] { runs.withLock { $0 } }
    func append(_ run: PoolRun) { runs.withLock { $0.append(run) } }
}

/// The mistake under test: a blocking call inside an async function, which holds its pool
/// thread. Returns how long it blocked; the work after the call keeps it out of tail
/// position.
@inline(never)
func blockPoolWorker(milliseconds: Int) async -> Int64 {
    let start = lwd_monotonic_ns()
    usleep(UInt32(milliseconds) * 1_000)
    return lwd_monotonic_ns() - start
}

/// A pool registered after the watchdog's first ticks is watched too.
@Suite(.serialized)
struct PoolRegistrationTests {
    @Test func poolWatchedAfterTheWatchdogSettledIsTracked() throws {
        let watchdog = Watchdog(
            configuration: Configuration(threshold: .milliseconds(100)),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: [:])
        watchdog.start()
        defer { watchdog.stop() }
        usleep(100_000)  // several ticks with nothing registered
        let watch = watchdog.watchConcurrencyPool(priorities: [.low], jobs: false)
        defer { watch.stop() }
        // The watchdog thread probes the pool at its ticks: a probe that ran proves it is tracked.
        var probed = false
        for _ in 0..<200 where !probed {
            usleep(10_000)
            probed = watch.heartbeats.contains { $0.record.probeRanAt.load(ordering: .relaxed) != 0 }
        }
        #expect(probed)
    }
}
