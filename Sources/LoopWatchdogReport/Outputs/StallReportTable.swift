import LoopWatchdog

/// The top sites of a ``StallSummary`` as a terminal table: blocked time in all, stalls,
/// p50, p99, the longest, the main cause and the loops, one site a row, most blocked first.
///
/// ```
/// 2 sites, 9 stalls, 2.72 s blocked, 2026-12-06 22:40:11 to 22:40:23 UTC
///  #    total  stalls     p50     p99     max  cause             loops                          site
///  1   1.81 s       6  301 ms  303 ms  305 ms  sleeping          swift-concurrency-pool.medium  sleepRoute<A>(_:_:) <- ...
/// ```
public struct StallReportTable: Sendable {
    /// The summary to show.
    public let summary: StallSummary

    /// A table of `summary`.
    public init(summary: StallSummary) {
        self.summary = summary
    }

    /// The table with at most `top` sites in `order`, lines of at most `width` characters
    /// (the site column is cut to fit; 0: never cut).
    public func render(top: Int = 20, order: StallSummary.Order = .total, width: Int = 0) -> String {
        let sites = summary.sites(sortedBy: order)
        var lines: [String] = [headline(sites: sites.count)]
        let header = ["#", "total", "stalls", "p50", "p99", "max", "cause", "loops", "site"]
        var rows: [[String]] = []
        for (rank, site) in sites.prefix(max(0, top)).enumerated() {
            let loops = site.loops.sorted { $0.value > $1.value }.map(\.key)
            rows.append([
                "\(rank + 1)", Self.duration(site.blocked), "\(site.stalls)",
                Self.duration(min(site.durations.quantile(0.5), site.longest)),
                Self.duration(min(site.durations.quantile(0.99), site.longest)),
                Self.duration(site.longest), site.mainCause,
                loops.count > 2 ? "\(loops[0]) +\(loops.count - 1)" : loops.joined(separator: ","), site.site,
            ])
        }
        let columns = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let rightAligned: Set<Int> = [0, 1, 2, 3, 4, 5]
        for row in [header] + rows {
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                if column == row.count - 1 {
                    cells.append(cell)
                } else if rightAligned.contains(column) {
                    cells.append(String(repeating: " ", count: columns[column] - cell.count) + cell)
                } else {
                    cells.append(cell + String(repeating: " ", count: columns[column] - cell.count))
                }
            }
            var line = cells.joined(separator: "  ")
            if width > 0 && line.count > width { line = String(line.prefix(max(1, width - 3))) + "..." }
            lines.append(line)
        }
        if sites.count > top { lines.append("(\(sites.count - top) more sites: --top \(sites.count) lists them all)") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func headline(sites: Int) -> String {
        var text = "\(sites) site\(sites == 1 ? "" : "s"), \(summary.stallCount) stall\(summary.stallCount == 1 ? "" : "s"), \(Self.duration(summary.blockedTotal)) blocked"
        if let range = summary.timeRange {
            text += ", \(Self.timestamp(range.lowerBound)) to \(Self.timestamp(range.upperBound))"
        }
        if summary.unfinishedCount > 0 {
            text += "; \(summary.unfinishedCount) still blocked when the log ended"
        }
        return text
    }

    /// `350 ms`, `1.21 s`, `2 min 5 s`: as the log's own lines say durations.
    static func duration(_ duration: Duration) -> String {
        duration.humanReadable
    }

    /// A Unix time as `2026-12-06 22:40:11 UTC`.
    static func timestamp(_ unixTime: Double) -> String {
        var seconds = Int(unixTime.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) UTC"
    }
}
