import Logging

/// Turns a `StallEvent` into a human-readable log message (a header line, then one line
/// per captured frame) and into swift-log metadata.
///
/// Every string that came from outside the watchdog (loop name, symbol, file, image,
/// capture reason) is escaped with `escapedForLogLine`, so an event always renders as
/// exactly one header line plus one line per frame and cannot forge other log lines.
struct TextEventFormatter: Sendable {
    /// Creates a formatter.
    init() {}

    /// The log message for `event`: the header, then for `began` and `continuing` one
    /// line per frame, joined with `\n` and without a trailing newline.
    func message(for event: StallEvent) -> String {
        var lines = [header(for: event)]
        if event.kind != .ended {
            lines += frameLines(event.frames)
        }
        return lines.joined(separator: "\n")
    }

    /// The header line alone, e.g.
    /// `loop 'main' (tid 1234) blocked for 100 ms (threshold 100 ms); stack captured by signal:`.
    func header(for event: StallEvent) -> String {
        let loop = "loop '\(event.loopName.escapedForLogLine)' (tid \(event.threadID))"
        let threshold = "(threshold \(event.threshold.humanReadable))"
        let blocked = event.blocked.humanReadable
        let capture: String
        if event.capture.hasStack {
            capture = "; stack captured by \(event.capture.description.escapedForLogLine):"
        } else {
            capture = "; no stack: \(event.capture.description.escapedForLogLine)"
        }
        switch event.kind {
        case .began:
            return "\(loop) blocked for \(blocked) \(threshold)\(capture)"
        case .continuing:
            return "\(loop) still blocked after \(blocked) \(threshold)\(capture)"
        case .ended:
            return "\(loop) was blocked for \(blocked) \(threshold)"
        default:
            return "\(loop) \(event.kind.description.escapedForLogLine) after \(blocked) \(threshold)\(capture)"
        }
    }

    /// One line per frame, indented two spaces, with the index column (`#3` or
    /// `#3 [inlined]`) padded so that the address columns line up:
    /// `  #0  0x00005555deadbeef  Demo.sleepBlocking(milliseconds:) at /src/Demo.swift:42 [loop-watchdog]`.
    func frameLines(_ frames: [StackFrame]) -> [String] {
        let indexColumns = frames.map { frame in
            frame.inlined ? "#\(frame.index) [inlined]" : "#\(frame.index)"
        }
        let width = indexColumns.map(\.count).max() ?? 0
        return zip(frames, indexColumns).map { frame, indexColumn in
            var line = "  "
            line += indexColumn
            line += String(repeating: " ", count: width - indexColumn.count)
            line += "  "
            line += frame.addressText
            line += "  "
            line += frame.symbol?.escapedForLogLine ?? "???"
            if let file = frame.file {
                line += " at "
                line += file.escapedForLogLine
                if let number = frame.line {
                    line += ":\(number)"
                }
            }
            if let image = frame.image {
                line += " ["
                line += image.escapedForLogLine
                line += "]"
            }
            return line
        }
    }

    /// Structured metadata for `event`: `stall_id`, `loop`, `tid`, `threshold_ms`,
    /// `blocked_ms`, `capture` and `event`. Durations are milliseconds with at most three
    /// decimals; the loop name and capture text are escaped like the message.
    func metadata(for event: StallEvent) -> Logger.Metadata {
        [
            "stall_id": .stringConvertible(event.stallID),
            "loop": .string(event.loopName.escapedForLogLine),
            "tid": .stringConvertible(event.threadID),
            "threshold_ms": .string(Self.milliseconds(event.threshold)),
            "blocked_ms": .string(Self.milliseconds(event.blocked)),
            "capture": .string(event.capture.description.escapedForLogLine),
            "event": .string(event.kind.description),
        ]
    }

    private static func milliseconds(_ duration: Duration) -> String {
        DecimalText.trimmed(duration.milliseconds) ?? "\(duration.milliseconds)"
    }
}
