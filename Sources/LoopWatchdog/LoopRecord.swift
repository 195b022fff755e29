import CLoopWatchdog
import Synchronization

/// The shared state of one registered loop.
///
/// Thread model: `progress`, `idleSince`, `busySince`, `probeRanAt`, `probeDueAt` and
/// `probeTicks` are written only by the loop's own thread (for a pool: by its
/// probe, one run after the other) and read by the watchdog thread; `thresholdOverride` is
/// written by any thread that changes the loop's threshold; `retired` is set by the loop
/// thread (unregister or thread exit) or whoever stops watching it, and read by the
/// watchdog. Everything else is immutable.
@usableFromInline
final class LoopRecord: Sendable {
    /// Identifies the record inside one process.
    let id: UInt64
    /// The name the user gave the loop.
    let name: String
    /// The loop thread's kernel thread id; 0 for a pool, which runs on several threads.
    let threadID: Int32
    /// A pidfd naming the loop thread, or a negative value when the kernel has none.
    let pidfd: Int32
    /// The loop thread's /proc files, kept open so that a capture reads them without
    /// opening them (negative when they could not be opened: captures then use paths).
    let procFiles: ThreadProcFiles
    /// The top of the loop thread's stack (0 when unknown); bounds signal-free unwinding.
    let stackHigh: UInt
    /// Wakes the watchdog thread when this loop goes busy while the watchdog is parked
    /// (nil for records made outside a watchdog, in tests).
    let idleGate: IdleGate?
    /// For a pool: how to find its worker threads. Nil for a loop.
    let workers: PoolWorkers?
    /// For a loop the watchdog thread must probe itself at each tick (a pool). Nil for a
    /// loop that probes itself or beats.
    let prober: (any LoopProber)?

    /// Bumped by every beat, idle mark and busy mark. Single writer: the loop thread.
    @usableFromInline let progress = Atomic<UInt64>(0)
    /// Monotonic ns at which the loop went idle, or 0 while it is busy. Cleared with a
    /// sequentially consistent store, read so by a watchdog about to park (see IdleGate).
    let idleSince = Atomic<Int64>(0)
    /// Monotonic ns at which the loop last went busy.
    let busySince = Atomic<Int64>(0)
    /// A per-loop threshold in ns, or 0 to use the watchdog's.
    let thresholdOverride = Atomic<Int64>(0)
    /// Set when the loop unregistered or its thread exited.
    let retired = Atomic<Bool>(false)
    /// Monotonic ns at which the loop last ran a probe; 0 before the first.
    let probeRanAt = Atomic<Int64>(0)
    /// Monotonic ns at which the loop ran the probe before that one; 0 before the second.
    let previousProbeRanAt = Atomic<Int64>(0)
    /// Monotonic ns by which the loop should run its next probe; 0 when it is not probed,
    /// `Int64.max` when no probe is due.
    let probeDueAt = Atomic<Int64>(0)
    /// The measured ticks in which the last two probes ran, for loops that measure ticks.
    let probeTicks = ProbeTicks()

    private static let nextID = Atomic<UInt64>(1)

    /// Creates the record for the calling thread.
    init(name: String, idleGate: IdleGate? = nil) {
        self.id = Self.nextID.add(1, ordering: .relaxed).oldValue
        self.name = name
        self.idleGate = idleGate
        self.threadID = lwd_gettid()
        self.pidfd = lwd_open_thread_pidfd()
        self.procFiles = ThreadProcFiles(threadID: threadID)
        var low: UInt = 0
        var high: UInt = 0
        self.stackHigh = lwd_current_stack_bounds(&low, &high) == 0 ? high : 0
        self.workers = nil
        self.prober = nil
        busySince.store(lwd_monotonic_ns(), ordering: .relaxed)
    }

    /// Creates the record of a pool, which runs on the threads `workers` finds and which the
    /// watchdog thread probes with `prober`.
    init(poolName name: String, workers: PoolWorkers, prober: any LoopProber) {
        self.id = Self.nextID.add(1, ordering: .relaxed).oldValue
        self.name = name
        self.threadID = 0
        self.pidfd = -1
        self.procFiles = .none
        self.idleGate = nil  // probed every tick: the watchdog never parks while it exists
        self.stackHigh = 0
        self.workers = workers
        self.prober = prober
        busySince.store(lwd_monotonic_ns(), ordering: .relaxed)
    }

    /// Marks the loop unregistered (its thread exited or it unregistered) and wakes a
    /// parked watchdog, so that the record and its descriptors are dropped soon. Sequentially
    /// consistent, pairing with the watchdog's `stillIdle` check (see IdleGate).
    func retire() {
        retired.store(true, ordering: .sequentiallyConsistent)
        idleGate?.loopWentBusy()
    }

    deinit {
        lwd_close_fd(pidfd)
        lwd_close_fd(procFiles.syscall)
        lwd_close_fd(procFiles.status)
    }

    /// One relaxed load and one relaxed store to memory only this thread writes.
    @inlinable @inline(__always)
    func bump() {
        progress.store(progress.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// Records a probe run at `now` and the deadline of the next one. The progress store
    /// releases the two times, so a watchdog that sees the new progress sees them too.
    func recordProbe(ranAt now: Int64, nextDueAt due: Int64) {
        probeDueAt.store(due, ordering: .releasing)
        previousProbeRanAt.store(probeRanAt.load(ordering: .relaxed), ordering: .relaxed)
        probeRanAt.store(now, ordering: .releasing)
        progress.store(progress.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Records one measured tick; kept only when the last probe ran in it.
    func recordTick(start: Int64, end: Int64) {
        probeTicks.record(start: start, end: end, probeRanAt: probeRanAt.load(ordering: .relaxed))
    }

    /// What the watchdog reads each tick.
    func sample() -> LoopSample {
        let progress = progress.load(ordering: .acquiring)
        let probeRanAt = probeRanAt.load(ordering: .acquiring)
        return LoopSample(
            progress: progress,
            idleSince: idleSince.load(ordering: .relaxed),
            busySince: busySince.load(ordering: .relaxed),
            probeRanAt: probeRanAt,
            previousProbeRanAt: previousProbeRanAt.load(ordering: .relaxed),
            probeDueAt: probeDueAt.load(ordering: .relaxed),
            probeTicks: probeTicks.read()
        )
    }
}

/// A snapshot of a loop's progress, as the watchdog saw it at one tick.
struct LoopSample: Sendable, Hashable {
    /// The progress counter.
    var progress: UInt64
    /// Monotonic ns at which the loop went idle, or 0 while busy.
    var idleSince: Int64
    /// Monotonic ns at which the loop last went busy.
    var busySince: Int64
    /// Monotonic ns at which the loop last ran a probe; 0 before the first.
    var probeRanAt: Int64 = 0
    /// Monotonic ns at which it ran the probe before that one; 0 before the second.
    var previousProbeRanAt: Int64 = 0
    /// Monotonic ns by which the next probe should run; 0 when the loop is not probed.
    var probeDueAt: Int64 = 0
    /// The measured ticks in which the last two probes ran, latest first, in monotonic ns,
    /// when the loop measures its ticks.
    var probeTicks: [ClosedRange<Int64>] = []
    /// Set by the watchdog when the loop's thread (a pool's worker), overdue, was waiting for
    /// a CPU rather than running or blocked (``SchedulerSample``).
    var waitedForCPU = false

    /// True for a loop watched by probes rather than by beats and idle marks.
    var isProbed: Bool { probeDueAt != 0 }
}

/// A thread's /proc/self/task/TID/syscall and status, opened once. Read from offset 0 they
/// cost one pread each instead of open, read and close, and they stay bound to the thread:
/// once it has exited they answer ESRCH, whoever gets its id next.
struct ThreadProcFiles: Sendable {
    /// fd of /proc/self/task/TID/syscall, or a negative errno.
    var syscall: Int32
    /// fd of /proc/self/task/TID/status, or a negative errno.
    var status: Int32

    /// Opens both files of thread `threadID`.
    init(threadID: Int32) {
        syscall = lwd_open_thread_proc_file(threadID, "syscall")
        status = lwd_open_thread_proc_file(threadID, "status")
    }

    /// No files: readers go through paths.
    static let none = ThreadProcFiles(syscall: -1, status: -1)

    private init(syscall: Int32, status: Int32) {
        self.syscall = syscall
        self.status = status
    }
}
