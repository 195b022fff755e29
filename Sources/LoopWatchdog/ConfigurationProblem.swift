/// A configuration value that could not be used as given, and what is used instead.
/// Resolving a configuration never fails; it reports these and carries on.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable (`LOOP_WATCHDOG_THRESHOLD`) or, for a value set in code,
    /// the property (`Configuration.threshold`).
    public let variable: String
    /// The value as given, unescaped and untruncated.
    public let value: String
    /// What is used instead, as a phrase: `using the default 100 ms`, `using 1 ms`, `ignored`.
    public let fallback: String
    /// Why the value was not used, as a phrase: `is below the minimum 1 ms`.
    public let reason: String

    init(variable: String, value: String, reason: String, fallback: String) {
        self.variable = variable
        self.value = value
        self.reason = reason
        self.fallback = fallback
    }

    /// One line, safe to log whatever the value holds:
    /// `LOOP_WATCHDOG_THRESHOLD="0.1us" is below the minimum 1 ms; using 1 ms`.
    /// The variable and value are escaped like Swift string literals and cut to 64
    /// characters (marked with `…` after the closing quote).
    public var description: String {
        let name = escaped(variable, limit: 64)
        let shown = escaped(value, limit: 64)
        return "\(name.text)\(name.truncated ? "…" : "")=\"\(shown.text)\"\(shown.truncated ? "…" : "") "
            + "\(reason); \(fallback)"
    }
}

/// Escapes `text` the way a Swift string literal would show it: quotes, backslashes,
/// `\n`, `\r`, `\t`, `\0`, and `\u{…}` for every other control, format, separator (other
/// than the space), private-use, surrogate or unassigned scalar. Stops before the result
/// would exceed `limit` scalars, never splitting an escape.
func escaped(_ text: String, limit: Int) -> (text: String, truncated: Bool) {
    var result = String.UnicodeScalarView()
    var length = 0
    for scalar in text.unicodeScalars {
        let piece = escape(scalar)
        let pieceLength = piece.unicodeScalars.count
        if length + pieceLength > limit { return (String(result), true) }
        result.append(contentsOf: piece.unicodeScalars)
        length += pieceLength
    }
    return (String(result), false)
}

private func escape(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\"": return "\\\""
    case "\\": return "\\\\"
    case "\n": return "\\n"
    case "\r": return "\\r"
    case "\t": return "\\t"
    case "\0": return "\\0"
    case " ": return " "
    default:
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default:
            return String(scalar)
        }
    }
}
