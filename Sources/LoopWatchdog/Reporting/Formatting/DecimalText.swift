/// Plain decimal text for numbers in JSON and log metadata: never an exponent, never
/// `nan` or `inf`.
enum DecimalText {
    /// `value` rounded to at most `maxFractionDigits` decimals, trailing zeros dropped:
    /// `100`, `100.5`, `351.123`, `0`. Nil when `value` is not finite.
    static func trimmed(_ value: Double, maxFractionDigits: Int = 3) -> String? {
        format(value, fractionDigits: maxFractionDigits, trimZeros: true)
    }

    /// `value` rounded to exactly `fractionDigits` decimals: `1764196201.123`,
    /// `5.000`. Nil when `value` is not finite.
    static func fixed(_ value: Double, fractionDigits: Int = 3) -> String? {
        format(value, fractionDigits: fractionDigits, trimZeros: false)
    }

    private static func format(_ value: Double, fractionDigits: Int, trimZeros: Bool) -> String? {
        guard value.isFinite else { return nil }
        precondition((0...9).contains(fractionDigits), "fractionDigits must be 0...9")
        var scale: UInt64 = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        let scaled = (value * Double(scale)).rounded()

        var integerText: String
        var fractionText: String
        var negative = false
        if scaled.magnitude < 9e18 {
            let units = Int64(scaled)
            negative = units < 0
            let magnitude = units.magnitude
            integerText = String(magnitude / scale)
            fractionText = fractionDigits == 0 ? "" : String(magnitude % scale)
            while fractionText.count < fractionDigits { fractionText = "0" + fractionText }
        } else {
            // Beyond 9e15 with 3 decimals every Double is a whole number.
            negative = value < 0
            integerText = wholeNumberDigits(value.magnitude)
            fractionText = String(repeating: "0", count: fractionDigits)
        }
        if trimZeros {
            while fractionText.hasSuffix("0") { fractionText.removeLast() }
        }
        var result = negative ? "-" : ""
        result += integerText
        if !fractionText.isEmpty {
            result += "."
            result += fractionText
        }
        return result
    }

    /// The digits of a large, whole, positive `value` without an exponent, expanded from
    /// its shortest round-tripping form (`1e+20` becomes `100000000000000000000`).
    private static func wholeNumberDigits(_ value: Double) -> String {
        let text = "\(value)"
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let mantissaParts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerDigits = String(mantissaParts[0])
        var digits = integerDigits + (mantissaParts.count > 1 ? String(mantissaParts[1]) : "")
        let pointPosition = integerDigits.count + exponent
        if pointPosition >= digits.count {
            digits += String(repeating: "0", count: pointPosition - digits.count)
        } else {
            digits = String(digits.prefix(max(pointPosition, 0)))
        }
        while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst() }
        return digits.isEmpty ? "0" : digits
    }
}
