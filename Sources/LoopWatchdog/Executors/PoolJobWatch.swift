import CLoopWatchdog
import Glibc
import Synchronization

/// The job-level watch of the Swift Concurrency pool: every job that the global executor
/// runs is numbered in its worker's slot before and after it runs (`CLoopWatchdog/job_watch.c`
/// installs the runtime's enqueue hooks; relaxed stores only, no clock read). The watchdog
/// reads the slots at each tick: a worker that runs one job longer than the threshold is a
/// stall of its own, reported while it blocks with that worker's stack. Its start is known
/// to half a tick (the tick that first saw the job and the one before), its end exactly:
/// a job flagged as stalled stores its end time.
///
/// Each worker thread is registered with the watchdog before the first job it runs, as a
/// loop whose record reads that worker's slot (``PoolWorkerJob``); it is unregistered when
/// the thread exits or the watch stops.
///
/// Thread model: `registerWorker` runs on a pool worker, called from C before its first job
/// of a watch, and takes the lock; the jobs themselves never call Swift. `start` and `stop`
/// run on any thread.
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
    /// It owns the slot its jobs write (through `job`) until the thread exits or registers
    /// again.
    private final class Worker {
        let heartbeat: LoopHeartbeat
        let job: PoolWorkerJob
        let threadID: Int32
        init(heartbeat: LoopHeartbeat, job: PoolWorkerJob) {
            self.heartbeat = heartbeat
            self.job = job
            self.threadID = heartbeat.threadID
        }
    }

    /// The threads that ran a job of the global executor and are alive: the pool's workers,
    /// told by what they do rather than by their name (a thread started from a worker
    /// inherits its name).
    private static let workerThreads = ForkSafeLock<Set<Int32>>([])

    /// True while a job watch is active (its jobs wake a resting watchdog).
    static var isActive: Bool { activeGeneration.load(ordering: .relaxed) != 0 }

    /// The pool's worker threads while the job watch is active; nil when it is not.
    static func knownWorkerThreads() -> Set<Int32>? {
        guard activeGeneration.load(ordering: .relaxed) != 0 else { return nil }
        return workerThreads.withLock { $0 }
    }

    private static let slot = ThreadExitSlot { pointer in
        guard let pointer else { return }
        let worker = Unmanaged<Worker>.fromOpaque(pointer).takeRetainedValue()
        _ = workerThreads.withLock { $0.remove(worker.threadID) }
    }

    /// Why the jobs cannot be watched one by one, when they cannot: no way to see a worker
    /// thread's exit (see ``ThreadExitSlot``).
    static var unavailableReason: String? { slot.isAvailable ? nil : slot.problem }

    /// Starts watching every job of the global executor for `watchdog`. Returns false when
    /// another hook (SwiftNIO's executor takeover) already owns the global executor: its
    /// jobs then run where that hook sends them, and are watched there (as NIO event loops).
    static func start(watchdog: Watchdog) -> Bool {
        guard slot.isAvailable else { return false }
        let generation = active.withLock { state in
            state.generation += 1
            state.watchdog = watchdog
            return state.generation
        }
        activeGeneration.store(generation, ordering: .releasing)
        return lwd_job_watch_install(registerWorker, generation) != 0
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

    /// Called from C by the first job that begins while the watchdog thread rests (sleeps
    /// long because nothing ran, see ``WatchdogThread``): wakes the active watch's watchdog.
    static let wakeResting: @convention(c) () -> Void = {
        active.withLock { $0.watchdog }?.idleGate.wake()
    }

    /// Runs `body` on the calling thread as a pool worker runs one watched job of
    /// `priority`: for tests of what the watch does with a thread it cannot see otherwise
    /// (one that exits after its job).
    static func runAsJob(priority: UInt8, _ body: () -> Void) {
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafeMutablePointer(to: &body) { pointer in
                lwd_job_watch_run_as_job(priority, { context in
                    context!.assumingMemoryBound(to: (() -> Void).self).pointee()
                }, pointer)
            }
        }
    }

    /// Called from C on a worker before its first job of the watch of `generation`: forgets
    /// the thread's worker of an older watch, and registers the thread with the active one.
    /// Returns the worker's slot, or nil when `generation` is no longer active.
    private static let registerWorker: @convention(c) (UInt64) -> OpaquePointer? = { generation in
        if let pointer = slot.value {
            // Of a watch that stopped: forget it.
            slot.set(nil)
            let worker = Unmanaged<Worker>.fromOpaque(pointer).takeRetainedValue()
            worker.heartbeat.unregister()
            _ = workerThreads.withLock { $0.remove(worker.threadID) }
        }
        guard generation != 0 else { return nil }
        let watchdog = active.withLock { $0.generation == generation ? $0.watchdog : nil }
        guard let watchdog, let job = PoolWorkerJob(generation: generation) else { return nil }
        let heartbeat = watchdog.registerPoolWorker(job: job)
        let worker = Worker(heartbeat: heartbeat, job: job)
        let retained = Unmanaged.passRetained(worker)
        guard slot.set(retained.toOpaque()) else {
            retained.release()
            heartbeat.unregister()
            return nil
        }
        _ = workerThreads.withLock { $0.insert(worker.threadID) }
        return job.slot
    }
}

/// One pool worker's slot, as the watchdog thread reads it: the job in progress, its
/// priority, and the end of a job flagged as stalled. Written by the worker around each job
/// (C, `lwd_job_slot_begin` / `lwd_job_slot_end`), read by the watchdog thread at each tick.
final class PoolWorkerJob: @unchecked Sendable {
    /// The C slot; owned, freed with this object. Every access is atomic, in C.
    let slot: OpaquePointer

    /// A zeroed slot for the watch of `generation`; nil when out of memory.
    init?(generation: UInt64 = 0) {
        guard let slot = lwd_job_slot_create(generation) else { return nil }
        self.slot = slot
    }

    deinit {
        lwd_job_slot_destroy(slot)
    }

    /// The slot's state now.
    func read() -> lwd_job_slot_state {
        var state = lwd_job_slot_state()
        lwd_job_slot_read(slot, &state)
        return state
    }

    /// The priority of the job in progress, or of the last one (a `TaskPriority` raw value).
    var priority: UInt8 { read().priority }

    /// Watchdog thread: the job numbered `sequence` is stalled; the worker stores its end.
    func flagStalled(sequence: UInt64) {
        lwd_job_slot_flag(slot, sequence)
    }

    /// What the watchdog reads at a tick: the job sequence as progress (odd while a job
    /// runs), idle when even, with the exact end of the job that ended last when it was
    /// flagged. A start is never known (no clock is read when a job begins).
    func sample() -> LoopSample {
        let state = read()
        let busy = state.sequence & 1 == 1
        let flaggedEnded = state.flagged != 0 && state.ended_job == state.flagged ? state.ended_at : 0
        let idleSince: Int64 = busy ? 0 : (state.ended_job &+ 1 == state.sequence && flaggedEnded > 0 ? flaggedEnded : 1)
        return LoopSample(progress: state.sequence, idleSince: idleSince, busySince: 0, jobEndedAt: flaggedEnded)
    }

    /// How many workers the pool runs at once for one priority: the number of online CPUs,
    /// the width the runtime gives its queues on Linux.
    static let poolWidth = max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
}
