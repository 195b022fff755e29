import Foundation

/// Counts durations in buckets 2 % wide on a logarithmic scale, so that quantiles of any
/// number of stalls take a few hundred counters at most: a p50 or p99 is off by at most 1 %
/// of its value.
public struct DurationSketch: Sendable, Hashable {
    /// Each bucket is this much wider than the one below it.
    static let growth = 1.02
    private static let logGrowth = log(growth)
    /// Bucket index -> count (sparse: one entry per bucket used).
    private var buckets: [Int32: Int] = [:]
    /// How many durations were added.
    public private(set) var count = 0

    /// An empty sketch.
    public init() {}

    /// Adds `count` durations of `duration`.
    public mutating func add(_ duration: Duration, count: Int = 1) {
        guard count > 0 else { return }
        let nanoseconds = max(1, Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9)
        let index = Int32((Foundation.log(nanoseconds) / Self.logGrowth).rounded(.down))
        buckets[index, default: 0] += count
        self.count += count
    }

    /// The duration below which `fraction` (0...1) of the durations lie, within 1 %; zero
    /// for an empty sketch.
    public func quantile(_ fraction: Double) -> Duration {
        guard count > 0 else { return .zero }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for index in buckets.keys.sorted() {
            seen += buckets[index]!
            if seen >= rank {
                // The bucket's geometric middle.
                let nanoseconds = Foundation.exp((Double(index) + 0.5) * Self.logGrowth)
                return .nanoseconds(Int64(nanoseconds.rounded()))
            }
        }
        return .zero
    }

    /// Adds every duration of `other`.
    public mutating func merge(_ other: DurationSketch) {
        for (index, count) in other.buckets { buckets[index, default: 0] += count }
        count += other.count
    }
}
