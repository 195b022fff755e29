/// Why a text is not a duration.
package enum DurationParseError: Error, Hashable {
    /// Nothing but whitespace.
    case empty
    /// Not a number followed by an optional unit.
    case notADuration
    /// A well-formed duration with a minus sign.
    case negative
    /// A number followed by letters that are not a known unit.
    case unknownUnit(String)

    /// Completes "VARIABLE=value ..." in a problem message. Never contains the input.
    package var reason: String {
        switch self {
        case .empty:
            "is empty"
        case .notADuration:
            "is not a duration (\(DurationParser.expected))"
        case .negative:
            "is negative (\(DurationParser.expected))"
        case .unknownUnit:
            "has an unknown unit (expected one of \(DurationParser.unitNames))"
        }
    }
}

/// Parses durations such as `100ms`, `0.25s`, `250us`, `250µs`, `5000ns`, `2m`, `1h`, or a
/// bare number of milliseconds such as `1.5`.
///
/// Grammar, after trimming surrounding whitespace: `digits[.digits][e[+|-]digits]`, or
/// `.digits[...]`, then optional spaces or tabs, then an optional case-insensitive unit.
/// Only ASCII digits are accepted, so `nan`, `inf`, hexadecimal and the like are rejected
/// before the number reaches `Double`. Values too large for `Duration` saturate at
/// `saturation` (about 285 years); callers clamp them to their own range.
package enum DurationParser {
    /// The largest duration the parser returns.
    static let saturation: Duration = .seconds(9_000_000_000)

    /// Example forms, for messages.
    static let expected = "expected e.g. 100ms, 0.25s, 250us; a bare number means milliseconds"
    /// The accepted units, for messages.
    static let unitNames = "ns, us, µs, ms, s, m, min, h"

    /// Nanoseconds per unit, keyed by the lowercased unit.
    private static let units: [String: Double] = [
        "ns": 1,
        "us": 1e3, "\u{B5}s": 1e3, "\u{3BC}s": 1e3,  // micro sign and Greek mu
        "ms": 1e6,
        "s": 1e9,
        "m": 60e9, "min": 60e9,
        "h": 3600e9,
    ]

    /// Parses `text`, or says why it is not a duration.
    package static func parse(_ text: String) -> Result<Duration, DurationParseError> {
        let scalars = Array(text.trimmingWhitespace().unicodeScalars)
        if scalars.isEmpty { return .failure(.empty) }

        var index = 0
        let negative = scalars[0] == "-"
        if negative { index += 1 }

        // The number.
        let numberStart = index
        let integerDigits = skipDigits(scalars, from: &index)
        var fractionDigits = 0
        if index < scalars.count, scalars[index] == "." {
            index += 1
            fractionDigits = skipDigits(scalars, from: &index)
            if fractionDigits == 0 { return .failure(.notADuration) }
        }
        if integerDigits + fractionDigits == 0 { return .failure(.notADuration) }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            var exponentIndex = index + 1
            if exponentIndex < scalars.count, scalars[exponentIndex] == "+" || scalars[exponentIndex] == "-" {
                exponentIndex += 1
            }
            if skipDigits(scalars, from: &exponentIndex) > 0 { index = exponentIndex }
        }
        let number = String(String.UnicodeScalarView(scalars[numberStart..<index]))

        // Optional blanks, then the unit: letters only.
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        let unitScalars = scalars[index...]
        guard unitScalars.allSatisfy(isUnitLetter) else { return .failure(.notADuration) }
        let unit = String(String.UnicodeScalarView(unitScalars)).lowercased()
        let nanosecondsPerUnit: Double
        if unit.isEmpty {
            nanosecondsPerUnit = 1e6
        } else if let known = units[unit] {
            nanosecondsPerUnit = known
        } else {
            return .failure(.unknownUnit(unit))
        }

        if negative { return .failure(.negative) }
        // `number` holds only validated ASCII, so `Double` cannot fail or read `nan`/`inf`;
        // overflow gives +infinity, which saturates below.
        guard let value = Double(number) else { return .failure(.notADuration) }
        let nanoseconds = value * nanosecondsPerUnit
        if !(nanoseconds < Double(saturation.clampedNanoseconds)) { return .success(saturation) }
        return .success(.nanoseconds(Int64(nanoseconds.rounded())))
    }

    /// Advances `index` past ASCII digits and returns how many there were.
    private static func skipDigits(_ scalars: [Unicode.Scalar], from index: inout Int) -> Int {
        let start = index
        while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
        return index - start
    }

    /// ASCII letters and the two micro signs.
    private static func isUnitLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            || scalar == "\u{B5}" || scalar == "\u{3BC}" || scalar == "\u{39C}"
    }
}

extension Duration {
    /// Exact short text in the largest whole unit, as accepted by `DurationParser`:
    /// `100 ms`, `3600 s`, `250 us`, `5 ns`. Used in configuration messages.
    package var configurationText: String {
        let (seconds, attoseconds) = components
        let nanoseconds = Int128(seconds) * 1_000_000_000 + Int128(attoseconds / 1_000_000_000)
        for (unit, size) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] as [(String, Int128)]
        where nanoseconds % size == 0 {
            return "\(nanoseconds / size) \(unit)"
        }
        return "\(nanoseconds) ns"
    }
}
