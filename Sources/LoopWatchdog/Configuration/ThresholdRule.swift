/// The one rule for thresholds and the watchdog's interval, used by the configuration
/// resolver, both threshold setters (``Watchdog/threshold``, ``LoopHeartbeat/threshold``),
/// the watchdog thread's tick and ``Watchdog/probeInterval(for:)``.
///
/// - A threshold is 1 ms ... 1 h.
/// - The interval is a tenth of the smallest threshold in force, at least 1 ms; an explicit
///   interval (set in code, or a valid `LOOP_WATCHDOG_INTERVAL`) replaces the tenth of the
///   watchdog's threshold but never exceeds that threshold. A loop with a smaller threshold
///   of its own still gets a tenth of it.
struct ThresholdRule: Sendable, Hashable {
    /// The allowed thresholds.
    static let thresholdRange: ClosedRange<Duration> = .milliseconds(1) ... .seconds(3600)
    /// The shortest interval (and probe interval).
    static let minimumInterval: Duration = .milliseconds(1)
    /// `minimumInterval` in nanoseconds.
    static let minimumIntervalNanoseconds: Int64 = 1_000_000

    /// The interval the user chose, or nil for "a tenth of the threshold".
    var explicitInterval: Duration?

    /// `threshold` limited to ``thresholdRange``.
    static func clamp(threshold: Duration) -> Duration {
        min(max(threshold, thresholdRange.lowerBound), thresholdRange.upperBound)
    }

    /// True when `threshold` is outside ``thresholdRange`` and would be clamped.
    static func needsClamp(threshold: Duration) -> Bool {
        !thresholdRange.contains(threshold)
    }

    /// A tenth of `threshold`, but at least ``minimumInterval``.
    static func defaultInterval(threshold: Duration) -> Duration {
        max(threshold / 10, minimumInterval)
    }

    /// The allowed explicit intervals for `threshold`.
    static func intervalRange(threshold: Duration) -> ClosedRange<Duration> {
        minimumInterval...max(threshold, minimumInterval)
    }

    /// The interval in force at start-up for `threshold`.
    func interval(threshold: Duration) -> Duration {
        .nanoseconds(interval(thresholdNanoseconds: threshold.clampedNanoseconds, smallestLoopThreshold: nil))
    }

    /// The sleep between ticks while every loop is quiet (waiting for work, no stall in
    /// progress), in nanoseconds: a quarter of the smallest threshold in force, and at least
    /// twice `interval`. Each tick of the watchdog thread is a wake-up, the main cost of an
    /// idle application (60-80 µs of CPU on a virtual machine); a stall that begins in a
    /// quiet stretch is seen within this interval, and its start is known to half of it
    /// (exactly for an event loop spinning on the CPU, see ``SentProbeLoopProber``).
    static func quietInterval(_ interval: Int64, smallestThreshold: Int64) -> Int64 {
        max(interval &* 2, smallestThreshold / 4)
    }

    /// The sleep between ticks while every loop rests (nothing ran since the last tick, all
    /// waiting for work), in nanoseconds: half the smallest threshold in force, and at least
    /// the quiet interval. Loops that mark themselves busy and pool jobs wake a resting
    /// watchdog when they begin; an event loop that wakes is seen within this interval.
    static func restingInterval(_ interval: Int64, smallestThreshold: Int64) -> Int64 {
        max(quietInterval(interval, smallestThreshold: smallestThreshold), smallestThreshold / 2)
    }

    /// The sleep between ticks, in nanoseconds, for the watchdog's threshold and the smallest
    /// per-loop threshold in force (nil when no loop has one).
    func interval(thresholdNanoseconds threshold: Int64, smallestLoopThreshold: Int64?) -> Int64 {
        let base = explicitInterval.map { min($0.clampedNanoseconds, threshold) } ?? threshold / 10
        let perLoop = smallestLoopThreshold.map { $0 / 10 } ?? base
        return max(min(base, perLoop), Self.minimumIntervalNanoseconds)
    }
}
