import CLoopWatchdog
import Synchronization

/// The shared state of one registered loop.
///
/// Thread model: `progress`, `idleSince`, `busySince`, the probe times and `probeTicks` are
/// written only by the loop's own thread (for a pool: by its probe, one run after the other;
/// the watchdog thread marks a pool's probe sent) and read by the watchdog thread;
/// `thresholdOverride` is written by any thread that changes the loop's threshold; `retired`
/// is set by the loop thread (unregister or thread exit) or whoever stops watching it, and
/// read by the watchdog. Everything else is immutable.
@usableFromInline
final class LoopRecord: Sendable {
    /// Identifies the record inside one process.
    let id: UInt64
    /// The name the user gave the loop.
    let name: String
    /// The thread or pool watched.
    let target: LoopTarget
    /// Wakes the watchdog thread when this loop goes busy while the watchdog is parked
    /// (nil for records made outside a watchdog, in tests, and for pools, which are probed
    /// at every tick so that the watchdog never parks while one exists).
    let idleGate: IdleGate?
    /// For a worker of the Swift Concurrency pool watched job by job: its slot, which is
    /// the record's progress (its own counters stay unused). Nil for every other loop.
    let poolJob: PoolWorkerJob?

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
    /// ``ProbeState`` in one word (see `ProbeState.stored`).
    private let probeDue = Atomic<Int64>(0)
    /// The measured ticks in which the last two probes ran, for loops that measure ticks.
    let probeTicks = ProbeTicks()

    private static let nextID = Atomic<UInt64>(1)

    /// What the watchdog thread calls at each tick to probe the loop: a pool's prober, or a
    /// loop thread's ``SentProbeLoopProber``; nil for loops that beat or probe themselves.
    let prober: (any LoopProber)?

    /// Creates the record for the calling thread. With `prober`, the watchdog thread probes
    /// the loop at each tick; no probe is outstanding until it sends the first.
    init(name: String, idleGate: IdleGate? = nil, poolJob: PoolWorkerJob? = nil, prober: (any LoopProber)? = nil) {
        self.id = Self.nextID.add(1, ordering: .relaxed).oldValue
        self.name = name
        self.idleGate = idleGate
        self.poolJob = poolJob
        self.prober = prober
        self.target = .thread(.current())
        if prober != nil { probeDue.store(ProbeState.answered.stored, ordering: .relaxed) }
        busySince.store(lwd_monotonic_ns(), ordering: .relaxed)
    }

    /// Creates the record of a pool, which runs on the threads `workers` finds and which the
    /// watchdog thread probes with `prober`. No probe is outstanding until the first is sent.
    init(poolName name: String, workers: PoolWorkers, prober: any LoopProber) {
        self.id = Self.nextID.add(1, ordering: .relaxed).oldValue
        self.name = name
        self.target = .pool(PoolTarget(workers: workers, prober: prober))
        self.idleGate = nil
        self.poolJob = nil
        self.prober = prober
        probeDue.store(ProbeState.answered.stored, ordering: .relaxed)
        busySince.store(lwd_monotonic_ns(), ordering: .relaxed)
    }

    /// The loop's thread; nil for a pool.
    var thread: LoopThread? {
        if case .thread(let thread) = target { return thread }
        return nil
    }

    /// The pool watched; nil for a loop thread.
    var pool: PoolTarget? {
        if case .pool(let pool) = target { return pool }
        return nil
    }

    /// Marks the loop unregistered (its thread exited or it unregistered) and wakes a
    /// parked watchdog, so that the record and its descriptors are dropped soon. Sequentially
    /// consistent, pairing with the watchdog's `stillIdle` check (see IdleGate).
    func retire() {
        retired.store(true, ordering: .sequentiallyConsistent)
        idleGate?.loopWentBusy()
    }

    deinit {
        if let thread {
            lwd_close_fd(thread.pidfd)
            thread.procFiles.close()
        }
    }

    /// One relaxed load and one relaxed store to memory only this thread writes.
    @inlinable @inline(__always)
    func bump() {
        progress.store(progress.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// The probe state as the loop (or the pool's prober) last left it.
    var probeState: ProbeState {
        ProbeState(stored: probeDue.load(ordering: .acquiring))
    }

    /// Watchdog thread, for a loop it probes: a probe was sent at `now` and is due at once.
    func markProbeSent(at now: Int64) {
        probeDue.store(ProbeState.due(at: now).stored, ordering: .relaxed)
    }

    /// Records a probe run at `now` and what is due next. The progress store releases the
    /// two times, so a watchdog that sees the new progress sees them too; the probe state is
    /// stored last, so a watchdog that sees `.answered` (and may then write these fields
    /// itself, see ``LoopProber``) sees every store of the run before it.
    func recordProbe(ranAt now: Int64, next: ProbeState) {
        previousProbeRanAt.store(probeRanAt.load(ordering: .relaxed), ordering: .relaxed)
        probeRanAt.store(now, ordering: .releasing)
        progress.store(progress.load(ordering: .relaxed) &+ 1, ordering: .releasing)
        probeDue.store(next.stored, ordering: .releasing)
    }

    /// Records one measured tick; kept only when the last probe ran in it.
    func recordTick(start: Int64, end: Int64) {
        probeTicks.record(start: start, end: end, probeRanAt: probeRanAt.load(ordering: .relaxed))
    }

    /// True when the loop is marked idle and its progress is still `progress`: nothing in it
    /// ran since the watchdog last sampled it (a beat loop or a pool worker; not a probed loop).
    /// A few loads, for the watchdog's quiet ticks.
    func isResting(progress expected: UInt64) -> Bool {
        if let poolJob {
            let state = poolJob.read()
            return state.sequence & 1 == 0 && state.sequence == expected
        }
        return idleSince.load(ordering: .relaxed) != 0 && progress.load(ordering: .acquiring) == expected
    }

    /// What the watchdog reads each tick.
    func sample() -> LoopSample {
        if let poolJob { return poolJob.sample() }
        let progress = progress.load(ordering: .acquiring)
        let probeRanAt = probeRanAt.load(ordering: .acquiring)
        return LoopSample(
            progress: progress,
            idleSince: idleSince.load(ordering: .relaxed),
            busySince: busySince.load(ordering: .relaxed),
            probeRanAt: probeRanAt,
            previousProbeRanAt: previousProbeRanAt.load(ordering: .relaxed),
            probe: probeState,
            probeTicks: probeTicks.read()
        )
    }
}
