import Glibc
import Logging

/// Where finished (symbolicated) stall events go. Called only on the reporter queue.
protocol EventSink: Sendable {
    /// Delivers one event.
    func emit(_ event: StallEvent)

    /// True for a sink that must have a stall's stack at once, before symbolication (which
    /// can take seconds the first time): it is given the event first with frames named by
    /// the dynamic linker only, then again symbolicated.
    var wantsFramesEarly: Bool { get }

    /// True for the log (text or JSON lines): the sink whose repeats ``RepeatPolicy``
    /// limits. Other sinks get every event.
    var isLog: Bool { get }

    /// False for a sink that has no use for a stall's merged samples (metrics, the hang
    /// file): when no sink that gets an event wants them, they are not symbolicated.
    var wantsSamples: Bool { get }

    /// Delivers a line about a site's repeated stalls (log sinks only).
    func emit(_ repeats: StallSiteRepeats)

    /// Delivers the periodic summary of the sites that blocked the most (log sinks only).
    func emit(_ summary: StallSiteSummary)
}

extension EventSink {
    var wantsFramesEarly: Bool { false }
    var isLog: Bool { false }
    var wantsSamples: Bool { true }
    func emit(_ repeats: StallSiteRepeats) {}
    func emit(_ summary: StallSiteSummary) {}
}

/// The wall clock in seconds, for the `time` field of JSON lines.
func wallClockSeconds() -> Double {
    var clock = timespec()
    clock_gettime(CLOCK_REALTIME, &clock)
    return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
}

/// Logs events through swift-log: `began` and `continuing` at warning, `ended` at the
/// configured level; the message is the readable text form, the metadata the fields.
struct LoggerEventSink: EventSink {
    let logger: Logger
    let endedLevel: Logger.Level
    let formatter = TextEventFormatter()

    var isLog: Bool { true }

    func emit(_ event: StallEvent) {
        let level: Logger.Level = event.kind == .ended ? endedLevel : .warning
        logger.log(
            level: level,
            "\(formatter.message(for: event))",
            metadata: formatter.metadata(for: event)
        )
    }

    func emit(_ repeats: StallSiteRepeats) {
        logger.warning(
            "\(StallSiteFormatting.message(for: repeats))", metadata: StallSiteFormatting.metadata(for: repeats))
    }

    func emit(_ summary: StallSiteSummary) {
        logger.info("\(StallSiteFormatting.message(for: summary))", metadata: ["event": "stall.summary"])
    }
}

/// Writes each event as one JSON object per line (``LineOutput``). On a pipe, a line that
/// would not fit in one atomic write keeps fewer frames (halved until it fits), so that
/// lines from several processes sharing the pipe never interleave.
final class JSONLinesEventSink: EventSink, @unchecked Sendable {
    // Used only on the reporter queue.
    private let output: LineOutput
    private let formatter = JSONEventFormatter()

    init(output: LineOutput) {
        self.output = output
    }

    var isLog: Bool { true }

    func emit(_ repeats: StallSiteRepeats) {
        output.write(StallSiteFormatting.jsonLine(for: repeats, wallClockSeconds: wallClockSeconds()))
    }

    func emit(_ summary: StallSiteSummary) {
        output.write(StallSiteFormatting.jsonLine(for: summary, wallClockSeconds: wallClockSeconds()))
    }

    func emit(_ event: StallEvent) {
        let seconds = wallClockSeconds()
        var event = event
        var line = formatter.line(for: event, wallClockSeconds: seconds)
        if let limit = output.lineLimit {
            while line.utf8.count >= limit && !(event.frames.isEmpty && event.threads.isEmpty) {
                event.frames = Array(event.frames.prefix(event.frames.count / 2))
                event.threads = event.threads.count > 1
                    ? Array(event.threads.prefix(event.threads.count / 2))
                    : event.threads.map { var thread = $0; thread.frames = Array(thread.frames.prefix(thread.frames.count / 2)); return thread }
                if event.threads.allSatisfy({ $0.frames.isEmpty }) && event.frames.isEmpty { event.threads = [] }
                line = formatter.line(for: event, wallClockSeconds: seconds)
            }
        }
        output.write(line)
    }
}

/// Hands events to a closure the user supplied.
struct ClosureEventSink: EventSink {
    let handler: @Sendable (StallEvent) -> Void

    func emit(_ event: StallEvent) {
        handler(event)
    }
}
