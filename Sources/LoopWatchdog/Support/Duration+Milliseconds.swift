extension Duration {
    /// The duration in milliseconds as a floating-point number (for output and JSON).
    package var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// The duration in nanoseconds, clamped to `0...Int64.max`. `package`: LoopWatchdogNIO
    /// uses it for NIO's `TimeAmount`.
    package var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        if seconds >= Int64.max / 1_000_000_000 { return Int64.max }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// A short human form: `250 us`, `100 ms`, `351 ms`, `1.5 s`, `2 min 5 s`.
    package var humanReadable: String {
        let ms = milliseconds
        if ms < 1 {
            return "\(Int((ms * 1_000).rounded())) us"
        }
        if ms < 10 {
            return "\(DecimalText.trimmed(ms, maxFractionDigits: 1) ?? "?") ms"
        }
        if ms < 1_000 {
            return "\(Int(ms.rounded())) ms"
        }
        let seconds = ms / 1_000
        if seconds < 120 {
            return "\(DecimalText.trimmed(seconds, maxFractionDigits: seconds < 10 ? 2 : 1) ?? "?") s"
        }
        let whole = Int(seconds.rounded())
        return "\(whole / 60) min \(whole % 60) s"
    }
}
