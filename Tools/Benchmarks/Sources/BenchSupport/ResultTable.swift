import Glibc

/// Prints results as rows of one Markdown table, the form BENCHMARKS.md quotes:
/// `| measurement | result | target | verdict |`. Every benchmark command prints its rows
/// through this, so `scripts/benchmarks.sh` can gather them in one table.
public enum ResultTable {
    /// How a result compares with its target.
    public enum Verdict: String, Sendable {
        case pass
        case miss = "**miss**"
        /// Information only: no target applies.
        case info = "-"
    }

    /// Prints one row and flushes, so rows interleave correctly with other output.
    public static func row(_ measurement: String, _ result: String, target: String = "-", _ verdict: Verdict = .info) {
        print("| \(measurement) | \(result) | \(target) | \(verdict.rawValue) |")
        fflush(nil)
    }

    /// `pass` when `condition` holds, `miss` otherwise.
    public static func verdict(_ condition: Bool) -> Verdict {
        condition ? .pass : .miss
    }

    /// A progress or method note, on standard error so it never mixes into the table.
    public static func note(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

extension Double {
    /// The value with `digits` decimals, as text.
    public func formatted(_ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (self * scale).rounded() / scale
        guard digits > 0 else { return String(Int(rounded)) }
        let text = String(rounded)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if text.contains("e") { return text }
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let padded = String(fraction.prefix(digits)) + String(repeating: "0", count: Swift.max(digits - fraction.count, 0))
        return parts[0] + "." + padded
    }
}
