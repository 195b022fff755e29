extension String {
    /// The string with everything that could break or forge a log line made visible
    /// (``escaped(_:limit:)`` without a limit). Applied to loop names, to symbol, file and
    /// image names, and to configuration values.
    var escapedForLogLine: String {
        guard unicodeScalars.contains(where: { $0.needsLogLineEscape }) else { return self }
        return escaped(self, limit: .max).text
    }
}

/// The one escaper of the package, in the style of a Swift string literal. Newline,
/// carriage return and tab become `\n`, `\r` and `\t`; double and single quotes and
/// backslashes get a backslash (`\"`, `\'`, `\\`); every other control character (C0, DEL,
/// C1), format character (the bidirectional controls that can reorder a displayed line,
/// zero-width spaces; not the zero-width joiner that emoji sequences need), line and
/// paragraph separator, space other than U+0020, private-use, surrogate or unassigned
/// scalar becomes a `\u{XX}` escape such as `\u{00}`, `\u{1B}` or `\u{2028}`. Anything
/// else, emoji included, is kept as it is.
///
/// Stops before the result would exceed `limit` scalars, never splitting an escape;
/// `truncated` says whether anything was left out.
func escaped(_ text: String, limit: Int) -> (text: String, truncated: Bool) {
    var result = String.UnicodeScalarView()
    var length = 0
    for scalar in text.unicodeScalars {
        let piece = scalar.logLineEscape
        let pieceLength = piece?.unicodeScalars.count ?? 1
        if length > limit - pieceLength { return (String(result), true) }
        if let piece { result.append(contentsOf: piece.unicodeScalars) } else { result.append(scalar) }
        length += pieceLength
    }
    return (String(result), false)
}

extension Unicode.Scalar {
    /// True for scalars that ``escaped(_:limit:)`` replaces with an escape.
    fileprivate var needsLogLineEscape: Bool {
        switch value {
        case 0x20, 0x200D: return false             // space; zero-width joiner (emoji sequences)
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1
        case 0x22, 0x27, 0x5C: return true          // " ' \
        default:
            switch properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned,
                .lineSeparator, .paragraphSeparator, .spaceSeparator:
                return true
            default:
                return false
            }
        }
    }

    /// The escape that stands for this scalar, or nil when it is kept.
    fileprivate var logLineEscape: String? {
        guard needsLogLineEscape else { return nil }
        switch self {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\"": return "\\\""
        case "'": return "\\'"
        case "\\": return "\\\\"
        default:
            let hex = String(value, radix: 16, uppercase: true)
            return "\\u{" + (hex.count < 2 ? "0" : "") + hex + "}"
        }
    }
}
