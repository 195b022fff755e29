import Synchronization

/// The measured ticks (stretches of work without waiting, as SwiftNIO reports them) in
/// which a loop ran its last two probes: the watchdog needs the tick of the probe that ended
/// a stall, and the next probe may already have run, in another tick, when it looks.
///
/// Thread model: written only by the loop thread (``record(start:end:probeRanAt:)``), read
/// by the watchdog thread (``read()``). A sequence counter, odd while a write is in progress,
/// lets the reader retry instead of seeing a torn pair of ticks.
final class ProbeTicks: Sendable {
    private let sequence = Atomic<UInt64>(0)
    private let latestStart = Atomic<Int64>(0)
    private let latestEnd = Atomic<Int64>(0)
    private let previousStart = Atomic<Int64>(0)
    private let previousEnd = Atomic<Int64>(0)

    init() {}

    /// Keeps the tick `start...end` if the loop's last probe, which ran at `probeRanAt`, ran
    /// inside it. Ticks without a probe are dropped. Cost: a few relaxed loads and stores.
    func record(start: Int64, end: Int64, probeRanAt: Int64) {
        guard start > 0, start <= probeRanAt, probeRanAt <= end else { return }
        let shifts = latestStart.load(ordering: .relaxed) != start
        let current = sequence.load(ordering: .relaxed)
        sequence.store(current &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        if shifts {
            previousStart.store(latestStart.load(ordering: .relaxed), ordering: .relaxed)
            previousEnd.store(latestEnd.load(ordering: .relaxed), ordering: .relaxed)
        }
        latestStart.store(start, ordering: .relaxed)
        latestEnd.store(end, ordering: .relaxed)
        sequence.store(current &+ 2, ordering: .releasing)
    }

    /// The ticks of the last two probes, latest first; empty when none was measured.
    func read() -> [ClosedRange<Int64>] {
        while true {
            let before = sequence.load(ordering: .acquiring)
            // No tick ever measured (a loop without NIO's metrics delegate): nothing to copy.
            if before == 0 { return [] }
            if before & 1 == 1 { continue }
            let latest = (latestStart.load(ordering: .relaxed), latestEnd.load(ordering: .relaxed))
            let previous = (previousStart.load(ordering: .relaxed), previousEnd.load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            guard sequence.load(ordering: .relaxed) == before else { continue }
            return [latest, previous].compactMap { start, end in
                start > 0 && start <= end ? start...end : nil
            }
        }
    }
}
