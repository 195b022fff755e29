import CLoopWatchdog
import Synchronization

/// Finds the worker threads of a pool (an executor that runs on several threads, such as a
/// Swift Concurrency / dispatch global pool), so that a starved pool can be reported with the
/// stacks of its busy workers.
///
/// The pool's probe calls ``noteCurrentThread()`` on whichever worker runs it: that teaches
/// the name the pool gives its workers (dispatch names them after their root queue, e.g.
/// `oot.default-qos`, the last 15 bytes of `com.apple.root.default-qos`) and the threads seen
/// so far. ``candidates()`` then returns every thread seen running a probe, plus, while the
/// job watch runs, every thread that ran a job of the global executor (of any priority:
/// workers are told by what they do, since a thread started from a worker inherits its
/// name), or else every live thread of that name.
///
/// Thread model: `noteCurrentThread` runs on pool workers, one probe at a time;
/// `candidates` on the watchdog thread. Both take the lock.
final class PoolWorkers: Sendable {
    /// One worker thread.
    struct Worker: Sendable, Hashable {
        var threadID: Int32
        var name: String
        /// The top of its stack when known (it ran a probe), else 0.
        var stackHigh: UInt
    }

    private struct State {
        var threadName: String?
        /// Threads seen running a probe, with the top of their stack.
        var seen: [Int32: UInt] = [:]
    }

    /// Most threads remembered from probes; older entries are dropped when they exit.
    private static let seenLimit = 1_024
    private let state = Mutex(State())

    init() {}

    /// The name the pool's workers carry, once a probe ran.
    var threadName: String? { state.withLock { $0.threadName } }

    /// Records that the calling thread is one of the pool's workers. Called by the probe.
    func noteCurrentThread() {
        let tid = lwd_gettid()
        let known = state.withLock { $0.seen[tid] != nil && $0.threadName != nil }
        guard !known else { return }
        var low: UInt = 0
        var high: UInt = 0
        let stackHigh = lwd_current_stack_bounds(&low, &high) == 0 ? high : 0
        let name = ProcessThreads.currentName()
        state.withLock { state in
            if state.threadName == nil, let name { state.threadName = name }
            if state.seen.count >= Self.seenLimit { state.seen.removeAll() }
            state.seen[tid] = stackHigh
        }
    }

    /// The threads seen running a probe (some may have exited).
    func seenThreadIDs() -> [Int32] {
        state.withLock { Array($0.seen.keys) }
    }

    /// Forgets threads seen running a probe that have exited.
    func forget(_ threadIDs: [Int32]) {
        state.withLock { state in
            for threadID in threadIDs { state.seen[threadID] = nil }
        }
    }

    /// Every live thread that works for the pool: those seen running a probe, and those
    /// known to run its jobs (the job watch), or else those named like its workers. Forgets
    /// seen threads that exited.
    func candidates() -> [Worker] {
        let (threadName, seen) = state.withLock { ($0.threadName, $0.seen) }
        let jobWorkers = PoolJobWatch.knownWorkerThreads()
        var workers: [Worker] = []
        var alive = Set<Int32>()
        for tid in ProcessThreads.list() {
            guard let name = ProcessThreads.name(of: tid) else { continue }
            alive.insert(tid)
            if let stackHigh = seen[tid] {
                workers.append(Worker(threadID: tid, name: name, stackHigh: stackHigh))
            } else if let jobWorkers {
                if jobWorkers.contains(tid) { workers.append(Worker(threadID: tid, name: name, stackHigh: 0)) }
            } else if let threadName, name == threadName {
                workers.append(Worker(threadID: tid, name: name, stackHigh: 0))
            }
        }
        if seen.keys.contains(where: { !alive.contains($0) }) {
            state.withLock { state in state.seen = state.seen.filter { alive.contains($0.key) } }
        }
        return workers
    }
}
