extension String {
    /// The string with everything that could break or forge a log line made visible.
    ///
    /// Newline, carriage return and tab become `\n`, `\r` and `\t`; double and single
    /// quotes and backslashes get a backslash (`\"`, `\'`, `\\`); every other control
    /// character (C0, DEL, C1), the line and paragraph separators U+2028/U+2029 and the
    /// bidirectional formatting characters that can reorder a displayed line become
    /// `\u{XX}` escapes such as `\u{1B}` or `\u{2028}`. Anything else, emoji included,
    /// is kept as it is. Applied to loop names and to symbol, file and image names.
    var escapedForLogLine: String {
        guard unicodeScalars.contains(where: { $0.needsLogLineEscape }) else { return self }
        var result = ""
        result.reserveCapacity(utf8.count + 8)
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\"": result += "\\\""
            case "'": result += "\\'"
            case "\\": result += "\\\\"
            case _ where scalar.needsLogLineEscape:
                result += "\\u{"
                let hex = String(scalar.value, radix: 16, uppercase: true)
                if hex.count < 2 { result += "0" }
                result += hex
                result += "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension Unicode.Scalar {
    /// True for scalars that `escapedForLogLine` replaces with an escape.
    fileprivate var needsLogLineEscape: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: true           // C0, DEL, C1
        case 0x22, 0x27, 0x5C: true                   // " ' \
        case 0x2028, 0x2029: true                     // line and paragraph separators
        case 0x061C, 0x200E, 0x200F: true             // bidi marks
        case 0x202A...0x202E, 0x2066...0x2069: true   // bidi embeddings, overrides, isolates
        default: false
        }
    }
}
