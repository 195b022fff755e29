import Synchronization

/// The watchdog's threshold while it runs: any thread may change it (as asyncio's
/// `loop.slow_callback_duration`), the watchdog thread reads it at every tick. Every value
/// goes through ``ThresholdRule``, as does the interval derived from it.
final class LiveThreshold: Sendable {
    private let nanoseconds: Atomic<Int64>
    /// The rule with the configuration's choice of interval.
    let rule: ThresholdRule

    init(_ threshold: Duration, rule: ThresholdRule) {
        self.rule = rule
        self.nanoseconds = Atomic(ThresholdRule.clamp(threshold: threshold).clampedNanoseconds)
    }

    /// The threshold in force.
    var value: Duration { .nanoseconds(nanoseconds.load(ordering: .relaxed)) }

    /// Sets the threshold, clamped to ``ThresholdRule/thresholdRange``; returns what was stored.
    @discardableResult
    func set(_ threshold: Duration) -> Duration {
        let clamped = ThresholdRule.clamp(threshold: threshold)
        nanoseconds.store(clamped.clampedNanoseconds, ordering: .relaxed)
        return clamped
    }

    /// The interval between ticks, in ns, given the smallest per-loop threshold in force.
    func interval(smallestLoopThreshold: Int64?) -> Int64 {
        rule.interval(thresholdNanoseconds: nanoseconds.load(ordering: .relaxed), smallestLoopThreshold: smallestLoopThreshold)
    }
}
