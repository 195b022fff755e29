/// Order statistics of a sample, nearest-rank.
public struct Statistics: Sendable {
    /// The sorted sample.
    public let sorted: [Double]

    /// Sorts `values`.
    public init(_ values: [Double]) {
        sorted = values.sorted()
    }

    /// Number of values.
    public var count: Int { sorted.count }

    /// The `q`-quantile (0...1), nearest rank; 0 for an empty sample.
    public func quantile(_ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.min(Swift.max(rank, 0), sorted.count - 1)]
    }

    /// The median.
    public var median: Double { quantile(0.5) }
    /// The 99th percentile.
    public var p99: Double { quantile(0.99) }
    /// The largest value.
    public var max: Double { sorted.last ?? 0 }
    /// The smallest value.
    public var min: Double { sorted.first ?? 0 }
}
