import Glibc
import Logging

/// Where finished (symbolicated) stall events go. Called only on the reporter queue.
protocol EventSink: Sendable {
    /// Delivers one event.
    func emit(_ event: StallEvent)
}

/// Logs events through swift-log: `began` and `continuing` at warning, `ended` at the
/// configured level; the message is the readable text form, the metadata the fields.
struct LoggerEventSink: EventSink {
    let logger: Logger
    let endedLevel: Logger.Level
    let formatter = TextEventFormatter()

    func emit(_ event: StallEvent) {
        let level: Logger.Level = event.kind == .ended ? endedLevel : .warning
        logger.log(
            level: level,
            "\(formatter.message(for: event))",
            metadata: formatter.metadata(for: event)
        )
    }
}

/// Writes each event as one JSON object per line to a file descriptor.
final class JSONLinesEventSink: EventSink, @unchecked Sendable {
    // Immutable after init; writes happen only on the reporter queue.
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let formatter = JSONEventFormatter()

    /// Writes to an existing descriptor (standard error or output), which it never closes.
    init(descriptor: Int32) {
        fd = descriptor
        ownsDescriptor = false
    }

    /// Appends to `path`, creating it. Returns nil with errno set if it cannot be opened.
    init?(path: String) {
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else { return nil }
        fd = opened
        ownsDescriptor = true
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    func emit(_ event: StallEvent) {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let seconds = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        writeLine(formatter.line(for: event, wallClockSeconds: seconds))
    }

    /// Writes `line` and a newline in one write(2) where possible.
    private func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = writeAll(fd, bytes)
    }
}

/// Hands events to a closure the user supplied.
struct ClosureEventSink: EventSink {
    let handler: @Sendable (StallEvent) -> Void

    func emit(_ event: StallEvent) {
        handler(event)
    }
}
