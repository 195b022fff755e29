import CLoopWatchdog
import Glibc
import Synchronization

/// The job-level watch of the Swift Concurrency pool: every job that the global executor
/// runs is bracketed by two calls on its worker thread (`CLoopWatchdog/job_watch.c` installs
/// the runtime's enqueue hooks), which mark the worker busy and idle like a loop that beats.
/// A worker that runs one job longer than the threshold is then a stall of its own,
/// reported while it blocks with that worker's stack, and ended with the job's exact
/// duration.
///
/// Each worker thread is registered with the watchdog on the first job it runs, as a loop
/// whose record carries the priority of the job in progress (``PoolWorkerJob``); it is
/// unregistered when the thread exits or the watch stops.
///
/// Thread model: `jobBegan` and `jobEnded` run on pool workers, around each job; they read
/// the thread's own worker (a pthread key) and the active generation (one relaxed load),
/// and take the lock only to register a thread. `start` and `stop` run on any thread.
enum PoolJobWatch {
    /// The watchdog whose job watch is active, and its generation.
    private struct Active {
        var watchdog: Watchdog?
        var generation: UInt64 = 0
    }

    private static let active = ForkSafeLock(Active())
    /// The active generation, 0 when no job watch is active; read by every job.
    private static let activeGeneration = Atomic<UInt64>(0)

    /// One worker thread, as its jobs see it.
    private final class Worker {
        let heartbeat: LoopHeartbeat
        let job: PoolWorkerJob
        let generation: UInt64
        let threadID: Int32
        init(heartbeat: LoopHeartbeat, job: PoolWorkerJob, generation: UInt64) {
            self.heartbeat = heartbeat
            self.job = job
            self.generation = generation
            self.threadID = heartbeat.threadID
        }
    }

    /// The threads that ran a job of the global executor and are alive: the pool's workers,
    /// told by what they do rather than by their name (a thread started from a worker
    /// inherits its name).
    private static let workerThreads = ForkSafeLock<Set<Int32>>([])

    /// The pool's worker threads while the job watch is active; nil when it is not.
    static func knownWorkerThreads() -> Set<Int32>? {
        guard activeGeneration.load(ordering: .relaxed) != 0 else { return nil }
        return workerThreads.withLock { $0 }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            let worker = Unmanaged<Worker>.fromOpaque(pointer).takeRetainedValue()
            _ = workerThreads.withLock { $0.remove(worker.threadID) }
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// Starts watching every job of the global executor for `watchdog`. Returns false when
    /// another hook (SwiftNIO's executor takeover) already owns the global executor: its
    /// jobs then run where that hook sends them, and are watched there (as NIO event loops).
    static func start(watchdog: Watchdog) -> Bool {
        _ = key
        let generation = active.withLock { state in
            state.generation += 1
            state.watchdog = watchdog
            return state.generation
        }
        activeGeneration.store(generation, ordering: .releasing)
        return lwd_job_watch_install(jobBegan, jobEnded) != 0
    }

    /// Stops the job watch of `watchdog`, if it is the active one: the hooks are put back,
    /// and every worker is unregistered at its next job or when its thread exits (a stall
    /// in progress ends then). Jobs already queued still run.
    static func stop(watchdog: Watchdog) {
        let stopped = active.withLock { state -> Bool in
            guard state.watchdog === watchdog else { return false }
            state.watchdog = nil
            state.generation += 1
            return true
        }
        guard stopped else { return }
        activeGeneration.store(0, ordering: .releasing)
        lwd_job_watch_uninstall()
    }

    /// Runs `body` on the calling thread between the two marks every watched job gets, as a
    /// pool worker would run one job of `priority`: for tests of what the watch does with a
    /// thread it cannot see otherwise (one that exits after its job).
    static func runAsJob(priority: UInt8, _ body: () -> Void) {
        jobBegan(priority)
        body()
        jobEnded(priority)
    }

    /// Before a job: the worker is busy from now on, with this job's priority.
    private static let jobBegan: @convention(c) (UInt8) -> Void = { priority in
        guard let worker = currentWorker(registering: true) else { return }
        worker.job.priority.store(priority, ordering: .relaxed)
        worker.heartbeat.markBusy()
    }

    /// After a job: the worker is idle (waiting for work) from now on.
    private static let jobEnded: @convention(c) (UInt8) -> Void = { _ in
        guard let worker = currentWorker(registering: false) else { return }
        worker.heartbeat.markIdle()
    }

    /// The calling worker of the active watch; registered first when `registering`.
    private static func currentWorker(registering: Bool) -> Worker? {
        let generation = activeGeneration.load(ordering: .acquiring)
        if let pointer = pthread_getspecific(key) {
            let worker = Unmanaged<Worker>.fromOpaque(pointer).takeUnretainedValue()
            if worker.generation == generation && !worker.heartbeat.isUnregistered { return worker }
            // Of a watch that stopped (or unregistered): forget it.
            worker.heartbeat.unregister()
            pthread_setspecific(key, nil)
            Unmanaged<Worker>.fromOpaque(pointer).release()
        }
        guard registering, generation != 0 else { return nil }
        let watchdog = active.withLock { $0.generation == generation ? $0.watchdog : nil }
        guard let watchdog else { return nil }
        let job = PoolWorkerJob()
        let heartbeat = watchdog.registerPoolWorker(job: job)
        let worker = Worker(heartbeat: heartbeat, job: job, generation: generation)
        pthread_setspecific(key, Unmanaged.passRetained(worker).toOpaque())
        _ = workerThreads.withLock { $0.insert(worker.threadID) }
        return worker
    }
}

/// The job in progress on one pool worker, as the watchdog thread reads it: its priority.
/// Written by the worker before each job, read by the watchdog thread when it reports.
final class PoolWorkerJob: Sendable {
    /// The priority of the job in progress, or of the last one (a `TaskPriority` raw value).
    let priority = Atomic<UInt8>(0)

    /// How many workers the pool runs at once for one priority: the number of online CPUs,
    /// the width the runtime gives its queues on Linux.
    static let poolWidth = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
}
