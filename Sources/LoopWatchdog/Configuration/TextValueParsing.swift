import Logging

/// Parsers for the non-duration environment values. Each returns `nil` for text it does
/// not accept; callers have already rejected empty text.
enum TextValueParsing {
    /// The accepted spellings of booleans, for messages.
    static let booleanNames = "on/off, 1/0, yes/no, true/false"
    /// The accepted log level names, for messages.
    static let levelNames = "trace, debug, info, notice, warning (or warn), error, critical"
    /// The longest usable path, in bytes (PATH_MAX less the terminating NUL).
    static let maximumPathBytes = 4095

    /// `on/off`, `1/0`, `yes/no`, `true/false`, case-insensitive, trimmed.
    static func boolean(_ text: String) -> Bool? {
        switch normalized(text) {
        case "on", "1", "yes", "true": true
        case "off", "0", "no", "false": false
        default: nil
        }
    }

    /// A `Logger.Level` raw name or `warn`, case-insensitive, trimmed.
    static func logLevel(_ text: String) -> Logger.Level? {
        let name = normalized(text)
        return name == "warn" ? .warning : Logger.Level(rawValue: name)
    }

    /// `text` or `json`, case-insensitive, trimmed.
    static func format(_ text: String) -> OutputFormat? {
        switch normalized(text) {
        case "text": .text
        case "json": .json
        default: nil
        }
    }

    /// `suppress` or `report`, case-insensitive, trimmed.
    static func tracedPolicy(_ text: String) -> TracedPolicy? {
        switch normalized(text) {
        case "suppress": .suppress
        case "report": .report
        default: nil
        }
    }

    /// `backoff` or `all`, case-insensitive, trimmed.
    static func repeatPolicy(_ text: String) -> RepeatPolicy? {
        switch normalized(text) {
        case "backoff": .backoff
        case "all": .all
        default: nil
        }
    }

    /// True for the words that switch a periodic summary off: `off`, `0`, `none`, `no`.
    static func isOff(_ text: String) -> Bool {
        ["off", "0", "none", "no"].contains(normalized(text))
    }

    /// An optionally negative run of ASCII digits, trimmed. Values beyond `Int` saturate
    /// at `Int.min`/`Int.max`; callers clamp them.
    static func integer(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.hasPrefix("-") ? trimmed.dropFirst() : trimmed
        guard !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
            return nil
        }
        return Int(trimmed) ?? (trimmed.hasPrefix("-") ? .min : .max)
    }

    /// `-` or `stderr` for standard error, `stdout` for standard output (case-insensitive,
    /// trimmed); anything else is a file path, taken verbatim.
    static func destination(_ text: String) -> OutputDestination {
        switch normalized(text) {
        case "-", "stderr": .standardError
        case "stdout": .standardOutput
        default: .file(text)
        }
    }

    private static func normalized(_ text: String) -> String {
        String(text.trimmingWhitespace()).lowercased()
    }
}

extension String {
    /// The string without leading and trailing whitespace (Unicode `White_Space`).
    func trimmingWhitespace() -> Substring {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return Substring(scalars)
    }
}
